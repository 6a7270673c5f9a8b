"""Shared fixtures: tiny data sets the tests make themselves (no network, no ../shared)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from zoo.data.audio import write_wav

WORDS = ("zero", "one", "two")


@pytest.fixture(scope="session")
def digit_folder(tmp_path_factory):
    """An FSDD-layout folder `{digit}_{speaker}_{take}.wav`, spoken by eSpeak NG at 8 kHz."""
    import librosa

    from zoo.data.tts import SAMPLE_RATE, Synthesizer

    root = tmp_path_factory.mktemp("fsdd")
    synth = Synthesizer()
    speakers = {"en-us+m3": "alice", "en+f2": "bob"}
    for digit, word in enumerate(WORDS):
        for voice, speaker in speakers.items():
            for take in range(12):
                wav = synth.say(word, voice=voice, rate=140 + 8 * take, pitch=30 + 3 * take)
                wav = librosa.resample(wav, orig_sr=SAMPLE_RATE, target_sr=8000)
                write_wav(root / f"{digit}_{speaker}_{take}.wav", wav, 8000)
    return root


def tone(seconds=0.5, rate=16000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="session")
def zoo():
    """Runs the `zoo` CLI in-process: zoo(*args, ok=True) -> click Result (stdout, stderr, exit_code)."""
    from click.testing import CliRunner

    from zoo.cli import main

    def run(*args, ok=True):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run

