"""Keyword-speech data sets: Speech Commands, FSDD, any `label/*.wav` folder, eSpeak.

Every source yields the same `AudioSet`: int16 clips of one length at one
rate, their label names, their split and their speaker, plus a noise bank for
augmentation. Splits are deterministic: a data set's own lists where it has
them, otherwise a stable hash of the speaker, so no speaker is in two splits.

Example:
    >>> speaker_split("0a7c2a8d", validation=10, test=10) in ("train", "validation", "test")
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import numpy as np

from zoo.audio import decode as audio_io
from zoo.audio.augment import simulate_channel, synthetic_noise_bank
from zoo.audio.clipstore import DiskClips, write_clips
from zoo.audio.tts import SAMPLE_RATE, Synthesizer
from zoo.core import runs
from zoo.core.download import fetch_tar
from zoo.core.errors import ZooError

SILENCE, UNKNOWN = "_silence_", "_unknown_"
BACKGROUND = "_background_noise_"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SC_COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SC_OTHER = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
            "backward", "forward", "follow", "learn", "visual") + DIGITS

SPEECH_COMMANDS_V2 = {
    "url": "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
    "sha256": "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
}


@dataclasses.dataclass
class AudioSet:
    """Decoded clips of one data set, all `sample_rate` Hz and equal length."""

    audio: np.ndarray      # int16 [N, samples], or for a set larger than memory a `DiskClips` view
    labels: np.ndarray     # str [N]: the source's own label names
    splits: np.ndarray     # str [N]: train | validation | test
    speakers: np.ndarray   # str [N]
    noise: np.ndarray      # float32 [M, samples*k]: background noise for augmentation
    skipped: list          # "path: cause" for each file that could not be read

    def select(self, mask) -> AudioSet:
        return dataclasses.replace(self, audio=self.audio[mask], labels=self.labels[mask],
                                   splits=self.splits[mask], speakers=self.speakers[mask])


def speaker_split(speaker: str, validation: int = 10, test: int = 10) -> str:
    """Speech Commands' stable hash split, by speaker, in percent."""
    h = int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 100
    return "validation" if h < validation else "test" if h < validation + test else "train"


def _wav_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav" and p.is_file())


def _require_dir(path: Path, kind: str) -> Path:
    if not path.is_dir():
        raise ZooError(f"{path}: no such folder ({kind} data)")
    return path


def _speaker_of(stem: str) -> str:
    return stem.split("_nohash_")[0] if "_nohash_" in stem else stem


def list_speech_commands(root: Path):
    """(path, label, split, speaker) rows and noise files of a Speech Commands folder."""
    _require_dir(root, "speech_commands")
    def read_list(name):
        f = root / name
        return set(f.read_text().split()) if f.is_file() else None
    val, test = read_list("validation_list.txt"), read_list("testing_list.txt")
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name == BACKGROUND:
            continue
        for path in _wav_files(folder):
            rel = f"{folder.name}/{path.name}"
            speaker = _speaker_of(path.stem)
            if val is not None and test is not None:
                split = "validation" if rel in val else "test" if rel in test else "train"
            else:
                split = speaker_split(speaker)
            rows.append((path, folder.name, split, speaker))
    noise_dir = root / BACKGROUND
    noise = _wav_files(noise_dir) if noise_dir.is_dir() else []
    if not rows:
        raise ZooError(f"{root}: no WORD/*.wav files found")
    return rows, noise


def list_folder(root: Path):
    """Any `label/*.wav` tree; split by a stable hash of the speaker."""
    _require_dir(root, "folder")
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name == BACKGROUND:
            continue
        for path in _wav_files(folder):
            speaker = _speaker_of(path.stem)
            rows.append((path, folder.name, speaker_split(speaker), speaker))
    if not rows:
        raise ZooError(f"{root}: no label/*.wav files found")
    noise_dir = root / BACKGROUND
    return rows, _wav_files(noise_dir) if noise_dir.is_dir() else []


_FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9]+)_(\d+)$")


def list_fsdd(root: Path):
    """Free Spoken Digit Dataset `{digit}_{speaker}_{take}.wav`, labels `zero`..`nine`.

    Official split: takes 0-4 test; takes 5-9 validation; the rest train.
    """
    _require_dir(root, "fsdd")
    if (root / "recordings").is_dir():
        root = root / "recordings"
    rows = []
    for path in _wav_files(root):
        m = _FSDD_NAME.match(path.stem)
        if not m:
            continue
        take = int(m.group(3))
        split = "test" if take < 5 else "validation" if take < 10 else "train"
        rows.append((path, DIGITS[int(m.group(1))], split, m.group(2)))
    if not rows:
        raise ZooError(f"{root}: no {{digit}}_{{speaker}}_{{take}}.wav files found")
    return rows, []


def download_speech_commands(dest: Path) -> Path:
    """Downloads and extracts Speech Commands v0.02 into `dest` (resumable, sha256-checked, tarfile's `data`
    filter; `zoo.core.download.fetch_tar`)."""
    url, sha = SPEECH_COMMANDS_V2["url"], SPEECH_COMMANDS_V2["sha256"]
    return fetch_tar(url, sha, dest.parent / Path(url).name, dest)


def _noise_bank(noise_files, sample_rate: int, length: int, seed: int) -> np.ndarray:
    """Background-noise files cut into equal rows; synthetic noise if there are none."""
    rows = []
    seg = 4 * length
    for path in noise_files:
        try:
            x = audio_io.read_wav(path, sample_rate)
        except ZooError:
            continue
        for start in range(0, len(x) - seg + 1, seg):
            piece = x[start:start + seg]
            rms = np.sqrt(np.mean(piece**2))
            if rms > 1e-5:
                rows.append(piece / rms)
    if not rows:
        bank = synthetic_noise_bank(sample_rate, seconds=max(10.0, 4 * length / sample_rate), seed=seed)
        return bank[:, : (bank.shape[1] // seg) * seg].reshape(-1, seg)
    return np.stack(rows).astype(np.float32)


def load_recordings(kind: str, root: Path, sample_rate: int, length: int, cache_dir: Path,
                    in_memory_mb: float = float("inf")) -> AudioSet:
    """Decodes a recorded data set once, then reuses a cache under `cache_dir`.

    Everything cached depends only on the files, the rate and the length (the cache key): a
    set without noise files gets the synthetic noise bank of seed 0, whatever seed trains on it,
    so a cache filled by one training gives every other the same noise.

    A set whose clips would take more than `in_memory_mb` is decoded a clip at a time into a file of
    clips (`{kind}-{key}.clips.i16`) and its `audio` is a `DiskClips` view of it, read a batch at a time.
    """
    listers = {"speech_commands": list_speech_commands, "fsdd": list_fsdd, "folder": list_folder}
    rows, noise_files = listers[kind](root)
    # "noise seed 0": caches written before the noise bank's seed was fixed are not reused
    key = audio_io.cache_key(kind, [(str(r[0]), r[0].stat().st_mtime_ns) for r in rows],
                             sample_rate, length, "noise seed 0")
    on_disk = len(rows) * length * 2 > in_memory_mb * 2**20
    cache = cache_dir / f"{kind}-{key}{'.index' if on_disk else ''}.npz"
    clips_file = cache_dir / f"{kind}-{key}.clips.i16"
    if cache.is_file() and (not on_disk or clips_file.is_file()):
        with np.load(cache, allow_pickle=False) as z:
            audio = DiskClips.of_file(clips_file, length) if on_disk else z["audio"]
            return AudioSet(audio, z["labels"], z["splits"], z["speakers"], z["noise"], list(z["skipped"]))
    paths, desc = [r[0] for r in rows], f"decoding {kind}"
    if on_disk:  # a clip at a time, into the clips file
        kept, bad = [], []
        write_clips(clips_file, audio_io.iter_clips(paths, sample_rate, length, kept, bad, desc), length)
        audio = DiskClips.of_file(clips_file, length)
    else:
        audio, kept, bad = audio_io.load_clips(paths, sample_rate, length, desc)
    kept_rows = [rows[i] for i in kept]
    result = AudioSet(
        audio=audio,
        labels=np.array([r[1] for r in kept_rows], dtype=str),
        splits=np.array([r[2] for r in kept_rows], dtype=str),
        speakers=np.array([r[3] for r in kept_rows], dtype=str),
        noise=_noise_bank(noise_files, sample_rate, length, seed=0),
        skipped=bad,
    )
    _save_npz(cache, result)
    return result


def _save_npz(path: Path, s: AudioSet) -> None:
    """Writes the cache atomically; processes that fill the same cache at once (seeds trained side
    by side) each write their own temporary file (`runs.atomic_path`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with runs.atomic_path(path) as tmp:
        audio = {} if isinstance(s.audio, DiskClips) else {"audio": s.audio}  # on disk: its own file
        np.savez(tmp, **audio, labels=s.labels, splits=s.splits, speakers=s.speakers,
                 noise=s.noise, skipped=np.array(s.skipped, dtype=str))


@dataclasses.dataclass(frozen=True)
class TTSSpec:
    """What the eSpeak set speaks and how.

    Each voice (with its variant) says each word `takes` times, each take at a
    random rate and pitch drawn from the ranges.
    """

    words: tuple
    voices: tuple
    takes: int = 2
    rates: tuple = (120, 220)
    pitches: tuple = (20, 80)
    channel_copies: int = 0  # extra copies of each clip through a random simulated channel


def synthesize(spec: TTSSpec, sample_rate: int, length: int, cache_dir: Path,
               seed: int = 0) -> AudioSet:
    """The built-in offline data set: eSpeak NG speaking `spec.words`, cached under `cache_dir`.

    Each voice is one "speaker" for the split, so no voice is in two splits.
    Leading and trailing silence is trimmed and the word centred.
    """
    import librosa
    from tqdm.auto import tqdm


    key = audio_io.cache_key(dataclasses.asdict(spec), sample_rate, length, seed, 4)
    cache = cache_dir / f"tts-{key}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            return AudioSet(z["audio"], z["labels"], z["splits"], z["speakers"], z["noise"], [])
    synth = Synthesizer()
    rng = np.random.default_rng(seed)
    jobs = [(w, v) for v in spec.voices for w in spec.words for _ in range(spec.takes)]
    clips, labels, speakers = [], [], []
    for word, voice in tqdm(jobs, desc="synthesizing (eSpeak NG)", unit="clip", leave=False):
        wav = synth.say(word, voice=voice, rate=int(rng.integers(spec.rates[0], spec.rates[1] + 1)),
                        pitch=int(rng.integers(spec.pitches[0], spec.pitches[1] + 1)),
                        pitch_range=int(rng.integers(20, 90)))
        wav, _ = librosa.effects.trim(wav, top_db=40)
        wav = librosa.resample(wav, orig_sr=SAMPLE_RATE, target_sr=sample_rate, res_type="soxr_hq")
        versions = [wav] + [simulate_channel(wav, sample_rate, rng) for _ in range(spec.channel_copies)]
        for v in versions:
            v = v / (np.max(np.abs(v)) + 1e-9) * rng.uniform(0.3, 0.9)
            clips.append(audio_io.to_int16(audio_io.fit_length(v, length)))
            labels.append(word)
            speakers.append(voice)
    speakers_arr = np.array(speakers, dtype=str)
    splits = _voice_splits(spec.voices)
    result = AudioSet(
        audio=np.stack(clips), labels=np.array(labels, dtype=str),
        splits=np.array([splits[s] for s in speakers_arr], dtype=str), speakers=speakers_arr,
        noise=_noise_bank([], sample_rate, length, seed), skipped=[],
    )
    _save_npz(cache, result)
    return result


def write_examples(aset: AudioSet, sample_rate: int, folder: Path, count: int = 1) -> None:
    """Writes `count` test-split clips of each label as wavs (for trying `zoo predict`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for label in sorted(set(aset.labels)):
        idx = np.flatnonzero((aset.labels == label) & (aset.splits == "test"))[:count]
        for k, i in enumerate(idx):
            target = folder / f"{label}_{k}.wav"
            if not target.exists():
                audio_io.write_wav(target, aset.audio[i].astype(np.float32) / 32768.0, sample_rate)


def _voice_splits(voices) -> dict:
    """Every tenth voice is validation, the one after it test; the rest train."""
    out = {}
    for i, v in enumerate(voices):
        out[v] = "validation" if i % 10 == 3 else "test" if i % 10 == 7 else "train"
    return out
