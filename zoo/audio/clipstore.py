"""Clips on disk: a data set larger than memory, decoded once into a file and read back a batch at a time.

`write_clips` streams equal-length int16 clips into a raw file (a temporary name, then renamed), holding
one clip at a time. `DiskClips` is a sequence of such clips made of parts, each read only when indexed:
rows of a clips file (`FileRows`: `os.pread`, no memory map, so a pass over the data leaves the process's
resident memory where it was), clips cut from a noise bank on demand (`NoiseCuts`: a keyword set's
`_silence_` clips, a few numbers each), or a small array. Indexing it with an integer, a slice or
positions reads just those clips; a boolean mask or `subset` gives another view without reading.
`batches` makes a tf.data pipeline of it whose shuffles equal an in-memory array's with the same seed.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clips.i16"
    >>> write_clips(path, (np.full(4, i, np.int16) for i in range(5)), 4)
    5
    >>> clips = DiskClips.of_file(path, 4)
    >>> clips.shape, clips[[3, 1]][:, 0].tolist()
    ((5, 4), [3, 1])
    >>> both = clips.subset(np.array([True, False, True, False, False])).join(np.zeros((1, 4), np.int16))
    >>> both[:][:, 0].tolist(), len(both)
    ([0, 2, 0], 3)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from zoo.core import runs

ITEM = np.dtype(np.int16).itemsize


def write_clips(path: Path, clips: Iterable[np.ndarray], length: int) -> int:
    """Writes int16 clips of `length` samples to `path` as they come; returns how many."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with runs.atomic_path(path) as tmp, open(tmp, "wb") as f:
        for clip in clips:
            if clip.shape != (length,) or clip.dtype != np.int16:
                raise ValueError(f"clip {count}: {clip.dtype}{list(clip.shape)}, int16[{length}] expected")
            f.write(clip.tobytes())
            count += 1
    return count


class FileRows:
    """Rows of a `write_clips` file."""

    def __init__(self, path: Path, length: int, rows: np.ndarray | None = None):
        self.path, self.length = Path(path), int(length)
        if rows is None:
            rows = np.arange(self.path.stat().st_size // (ITEM * self.length))
        self.rows = np.asarray(rows, np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, positions: np.ndarray) -> FileRows:
        return FileRows(self.path, self.length, self.rows[positions])

    def read(self, positions: np.ndarray) -> np.ndarray:
        out = np.empty((len(positions), self.length), np.int16)
        size = self.length * ITEM
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for i, row in enumerate(self.rows[positions]):
                out[i] = np.frombuffer(os.pread(fd, size, int(row) * size), np.int16)
        finally:
            os.close(fd)
        return out


class ArrayRows:
    """Clips held in memory."""

    def __init__(self, clips: np.ndarray):
        self.clips = np.asarray(clips, np.int16)

    def __len__(self) -> int:
        return len(self.clips)

    def subset(self, positions: np.ndarray) -> ArrayRows:
        return ArrayRows(self.clips[positions])

    def read(self, positions: np.ndarray) -> np.ndarray:
        return self.clips[positions]


class NoiseCuts:
    """Clips cut from a noise bank when read: clip i is `noise[rows[i], starts[i]:starts[i] + length]` times
    `levels[i]`, as int16 (the noise in [-1, 1]). Holds three numbers a clip, not the clip."""

    def __init__(self, noise: np.ndarray, rows, starts, levels, length: int):
        self.noise, self.length = noise, int(length)
        self.rows, self.starts, self.levels = np.asarray(rows), np.asarray(starts), np.asarray(levels)

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, positions: np.ndarray) -> NoiseCuts:
        return NoiseCuts(self.noise, self.rows[positions], self.starts[positions], self.levels[positions],
                         self.length)

    def read(self, positions: np.ndarray) -> np.ndarray:
        if not len(positions):
            return np.zeros((0, self.length), np.int16)
        cuts = np.stack([self.noise[r, s:s + self.length] * g for r, s, g in
                         zip(self.rows[positions], self.starts[positions], self.levels[positions])])
        return np.clip(np.round(cuts * 32767), -32768, 32767).astype(np.int16)


class DiskClips:
    """Equal-length int16 clips in parts (`FileRows`, `NoiseCuts`, `ArrayRows`), read only when indexed."""

    dtype = np.dtype(np.int16)

    def __init__(self, parts: list, length: int):
        self.parts, self.length = [p for p in parts if len(p)], int(length)
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])

    @classmethod
    def of_file(cls, path: Path, length: int) -> DiskClips:
        """Every clip of a `write_clips` file."""
        return cls([FileRows(path, length)], length)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.length)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(part, position within it) of each position."""
        if len(positions) and not (0 <= positions.min() and positions.max() < len(self)):
            raise IndexError(f"positions out of range for {len(self)} clips")
        part = np.searchsorted(self.offsets, positions, side="right") - 1
        return part, positions - self.offsets[part]

    def subset(self, index) -> DiskClips:
        """The clips at `index` (a boolean mask or positions), in that order, as a view: nothing is read."""
        part, local = self._locate(np.arange(len(self))[index].reshape(-1))
        runs_start = np.flatnonzero(np.diff(part, prepend=-1))  # consecutive positions in one part
        bounds = list(runs_start) + [len(part)]
        return DiskClips([self.parts[part[a]].subset(local[a:b]) for a, b in zip(bounds, bounds[1:])],
                         self.length)

    def join(self, other) -> DiskClips:
        """These clips, then `other`'s (a `DiskClips`, or an int16 array of clips)."""
        more = other.parts if isinstance(other, DiskClips) else [ArrayRows(other)]
        return DiskClips(self.parts + more, self.length)

    def __getitem__(self, index) -> np.ndarray:
        """Reads the clips at `index` (an int, a slice or positions); a boolean mask gives a view instead."""
        if isinstance(index, np.ndarray) and index.dtype == bool:
            return self.subset(index)
        if isinstance(index, (int, np.integer)):
            return self.read(np.array([index]))[0]
        return self.read(np.arange(len(self))[index])

    def read(self, index) -> np.ndarray:
        """int16 [len(index), length] for positions `index`."""
        part, local = self._locate(np.asarray(index, np.int64).reshape(-1))
        out = np.empty((len(part), self.length), np.int16)
        for p in np.unique(part):
            mask = part == p
            out[mask] = self.parts[p].read(local[mask])
        return out

    def batches(self, labels: np.ndarray, batch_size: int, shuffle_seed: int | None = None,
                drop_remainder: bool = False):
        """A tf.data pipeline of (int16 clips [B, length], labels [B]) batches read from disk: with
        `shuffle_seed`, reshuffled each pass exactly as an in-memory array of the same length would be."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((np.arange(len(self)), np.asarray(labels)))
        if shuffle_seed is not None:
            ds = ds.shuffle(len(self), seed=shuffle_seed, reshuffle_each_iteration=True)

        def read(index, y):
            audio = tf.numpy_function(self.read, [index], tf.int16, stateful=False)
            return tf.ensure_shape(audio, [None, self.length]), y

        return ds.batch(batch_size, drop_remainder=drop_remainder).map(read)
