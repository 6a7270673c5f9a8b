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
    path = _check_wav_file(path)
    with _open_sound(path) as f:
        try:
            audio = f.read(dtype="float32", always_2d=True)
        except Exception as e:
            raise ZooError(f"{path}: not a readable audio file ({_cause(e)})") from None
        rate = f.samplerate
    if audio.shape[0] == 0:
        raise ZooError(f"{path}: no audio samples")
    audio = audio.mean(axis=1)
    if not np.all(np.isfinite(audio)):
        raise ZooError(f"{path}: audio contains NaN or infinite samples")
    if rate != sample_rate:
        import librosa

        audio = librosa.resample(audio, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return audio.astype(np.float32)


def _cause(e: Exception) -> str:
    cause = str(e).splitlines()[0] if str(e) else type(e).__name__
    return re.sub(r"^Error opening .*?: ", "", cause).rstrip(".")  # the path is named once


def _check_wav_file(path) -> Path:
    """The path, after the checks that need no decoding: exists, not empty, not truncated."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ZooError(f"{path}: empty file")
    declared = riff_data_bytes(path)
    if declared and declared[0] not in _UNKNOWN_SIZES and declared[0] > declared[1]:
        raise ZooError(f"{path}: truncated wav (its header declares {declared[0]} bytes of audio, "
                       f"the file holds {max(declared[1], 0)})")
    return path


def _open_sound(path: Path):
    """An open `soundfile.SoundFile` with a usable sample rate, or a one-line ZooError."""
    import soundfile as sf

    try:
        f = sf.SoundFile(path)
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, TypeError ...
        raise ZooError(f"{path}: not a readable audio file ({_cause(e)})") from None
    if f.samplerate < MIN_SAMPLE_RATE:
        f.close()
        raise ZooError(f"{path}: unsupported sample rate {f.samplerate} Hz (need >= {MIN_SAMPLE_RATE})")
    return f


def wav_blocks(path, sample_rate: int, block_seconds: float = 10.0):
    """Yields a wav of any length as float32 mono blocks at `sample_rate`, in bounded memory.

    Channels are averaged; other rates are resampled on the fly (soxr's streaming
    resampler, the one librosa uses). Errors are those of `read_wav`, raised
    before the first block or, for NaN/Inf samples, at the block holding them.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_wav(f"{d}/a.wav", np.zeros(48000, np.float32), 16000)
        ...     sum(len(b) for b in wav_blocks(f"{d}/a.wav", 8000, block_seconds=1.0))
        24000
    """
    import soxr

    path = _check_wav_file(path)
    with _open_sound(path) as f:
        if f.frames == 0:
            raise ZooError(f"{path}: no audio samples")
        rate = f.samplerate
        resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32", quality="HQ") \
            if rate != sample_rate else None
        block = max(1, int(block_seconds * rate))
        while True:
            try:
                chunk = f.read(block, dtype="float32", always_2d=True)
            except Exception as e:
                raise ZooError(f"{path}: not a readable audio file ({_cause(e)})") from None
            last = len(chunk) < block
            mono = chunk.mean(axis=1).astype(np.float32)
            if not np.all(np.isfinite(mono)):
                raise ZooError(f"{path}: audio contains NaN or infinite samples")
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            if len(mono):
                yield mono
            if last:
                return


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


def read_clip(path, sample_rate: int, length: int) -> np.ndarray:
    """`fit_length(read_wav(path, sample_rate), length)` in bounded memory, for a recording of any length:
    the wav is read in blocks (`wav_blocks`) and only the loudest `length` samples so far are kept.

    Example:
        >>> import tempfile
        >>> audio = np.zeros(50000, np.float32); audio[30000:30100] = 0.5
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_wav(f"{d}/a.wav", audio, 8000)
        ...     clip = read_clip(f"{d}/a.wav", 8000, 8000)
        ...     len(clip), float(np.abs(clip).max()) > 0.4
        (8000, True)
    """
    tail = np.zeros(0, np.float32)  # the last length - 1 samples: windows that span two blocks
    best, best_energy, seen = None, -1.0, 0
    for block in wav_blocks(path, sample_rate):
        seen += len(block)
        buffer = np.concatenate([tail, block])
        if len(buffer) >= length:  # every window that ends in this block, each seen once
            energy = np.cumsum(np.concatenate([[0.0], buffer.astype(np.float64) ** 2]))
            window = energy[length:] - energy[:-length]
            start = int(np.argmax(window))
            if window[start] > best_energy:
                best_energy, best = float(window[start]), buffer[start:start + length].copy()
        tail = buffer[len(buffer) - (length - 1):] if length > 1 else buffer[:0]
    return fit_length(tail if seen < length else best, length)


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)


def load_clips(paths, sample_rate: int, length: int, desc: str = "decoding"):
    """Decodes many wavs into an int16 [N, length] array, skipping bad files.

    Returns:
        (clips, kept_indices, bad) where `bad` lists "path: cause" lines.
    """
    kept, bad = [], []
    clips = list(iter_clips(paths, sample_rate, length, kept, bad, desc))
    out = np.stack(clips) if clips else np.zeros((0, length), np.int16)
    return out, np.asarray(kept, np.int64), bad


def iter_clips(paths, sample_rate: int, length: int, kept: list, bad: list, desc: str = "decoding"):
    """Yields each readable wav of `paths` as int16 [length], one at a time (for data sets larger than
    memory); appends its position to `kept`, and "path: cause" for each bad file to `bad`."""
    from tqdm.auto import tqdm

    for i, path in enumerate(tqdm(paths, desc=desc, unit="clip", leave=False)):
        try:
            clip = to_int16(fit_length(read_wav(path, sample_rate), length))
        except ZooError as e:
            bad.append(str(e))
            continue
        kept.append(i)
        yield clip


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
