"""A small keyword data set anyone can make offline: digits spoken by eSpeak NG, in FSDD's layout.

Used by the contract tests and for trying a recipe end to end without a download.
"""

from __future__ import annotations

from pathlib import Path

import librosa

from zoo.audio.decode import write_wav
from zoo.audio.tts import SAMPLE_RATE, Synthesizer

VOICES = {"en-us+m3": "alice", "en+f2": "bob"}


def write_digit_folder(root: Path, words, takes: int = 12, rate: int = 8000) -> Path:
    """Writes `{digit}_{speaker}_{take}.wav` for each word (its index is the digit), two voices.

    Takes 0-4 are FSDD's test split, the rest train and validation; rate and
    pitch change with the take.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    synth = Synthesizer()
    for digit, word in enumerate(words):
        for voice, speaker in VOICES.items():
            for take in range(takes):
                wav = synth.say(word, voice=voice, rate=140 + 8 * take, pitch=30 + 3 * take)
                wav = librosa.resample(wav, orig_sr=SAMPLE_RATE, target_sr=rate)
                write_wav(root / f"{digit}_{speaker}_{take}.wav", wav, rate)
    return root
