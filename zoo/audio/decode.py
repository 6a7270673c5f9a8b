"""Audio decoding for every pipeline: any common wav, mono, resampled, fixed length.

Decoding goes through soundfile (PCM 8/16/24/32-bit and float wavs);
resampling through librosa (soxr).

Example:
    >>> import numpy as np
    >>> fit_length(np.ones(3, np.float32), 7).tolist()
    [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from pathlib import Path

import numpy as np

from zoo.core import runs
from zoo.core.errors import ZooError

MIN_SAMPLE_RATE = 4000
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave these before they know the length


def riff_data_bytes(path: Path) -> tuple[int, int] | None:
    """(bytes the header declares, bytes present) of a RIFF/WAVE file's data chunk; None if not RIFF/WAVE.

    libsndfile reads a file cut off in its data without complaint; comparing
    the header's count with the file's size tells a truncated download.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                return length, size - pos - 8
            pos += 8 + length + (length & 1)
            f.seek(pos)


def read_wav(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """Reads a wav as float32 mono at `sample_rate`.

    Raises:
        ZooError: naming the file and the cause (missing, empty, corrupt, not a
            wav, or an unusable sample rate).
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ZooError(f"{path}: empty file")
    declared = riff_data_bytes(path)
    if declared and declared[0] not in _UNKNOWN_SIZES and declared[0] > declared[1]:
        raise ZooError(f"{path}: truncated wav (its header declares {declared[0]} bytes of audio, "
                       f"the file holds {max(declared[1], 0)})")
    try:
        with sf.SoundFile(path) as f:
            rate = f.samplerate
            if rate < MIN_SAMPLE_RATE:
                raise ZooError(f"{path}: unsupported sample rate {rate} Hz (need >= {MIN_SAMPLE_RATE})")
            audio = f.read(dtype="float32", always_2d=True)
    except ZooError:
        raise
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, TypeError ...
        cause = str(e).splitlines()[0] if str(e) else type(e).__name__
        cause = re.sub(r"^Error opening .*?: ", "", cause).rstrip(".")  # the path is named once
        raise ZooError(f"{path}: not a readable audio file ({cause})") from None
    if audio.shape[0] == 0:
        raise ZooError(f"{path}: no audio samples")
    audio = audio.mean(axis=1)
    if not np.all(np.isfinite(audio)):
        raise ZooError(f"{path}: audio contains NaN or infinite samples")
    if rate != sample_rate:
        import librosa

        audio = librosa.resample(audio, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return audio.astype(np.float32)


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Centres a short clip in `length` zeros, or keeps a long clip's loudest window."""
    n = len(audio)
    if n == length:
        return audio.astype(np.float32)
    if n < length:
        left = (length - n) // 2
        return np.pad(audio, (left, length - n - left)).astype(np.float32)
    energy = np.cumsum(np.concatenate([[0.0], audio.astype(np.float64) ** 2]))
    window = energy[length:] - energy[:-length]
    start = int(np.argmax(window))
    return audio[start:start + length].astype(np.float32)


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)


def load_clips(paths, sample_rate: int, length: int, desc: str = "decoding"):
    """Decodes many wavs into an int16 [N, length] array, skipping bad files.

    Returns:
        (clips, kept_indices, bad) where `bad` lists "path: cause" lines.
    """
    from tqdm.auto import tqdm

    clips, kept, bad = [], [], []
    for i, path in enumerate(tqdm(paths, desc=desc, unit="clip", leave=False)):
        try:
            clips.append(to_int16(fit_length(read_wav(path, sample_rate), length)))
            kept.append(i)
        except ZooError as e:
            bad.append(str(e))
    out = np.stack(clips) if clips else np.zeros((0, length), np.int16)
    return out, np.asarray(kept, np.int64), bad


def cache_key(*parts) -> str:
    """A short stable hash of the things a cached array depends on."""
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int) -> None:
    """Writes a PCM-16 wav atomically (temporary name, then rename)."""
    import soundfile as sf

    with runs.atomic_path(path) as tmp:
        sf.write(tmp, audio, sample_rate, subtype="PCM_16", format="WAV")
