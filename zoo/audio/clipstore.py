"""Clips on disk: a data set larger than memory, decoded once into a file and read back a batch at a time.

`write_clips` streams equal-length int16 clips into a raw file (a temporary name, then renamed), holding
one clip at a time. `DiskClips` is a view of some of its rows, plus optional clips held in memory after
them (a keyword set's `_silence_` clips, cut from the noise bank): indexing it with an integer, a slice or
an index array reads just those rows (`os.pread`, no memory map, so a pass over the data leaves the
process's resident memory where it was); a boolean mask or `subset` gives another view without reading.
`batches` makes a tf.data pipeline of it whose shuffles equal an in-memory array's with the same seed.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clips.i16"
    >>> write_clips(path, (np.full(4, i, np.int16) for i in range(5)), 4)
    5
    >>> clips = DiskClips(path, 4)
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


class DiskClips:
    """Rows of a `write_clips` file (and in-memory clips after them), read only when indexed."""

    def __init__(self, path: Path, length: int, rows: np.ndarray | None = None, tail: np.ndarray | None = None):
        self.path, self.length = Path(path), int(length)
        if rows is None:
            rows = np.arange(self.path.stat().st_size // (ITEM * self.length))
        self.rows = np.asarray(rows, np.int64)
        self.tail = np.zeros((0, self.length), np.int16) if tail is None else np.asarray(tail, np.int16)

    dtype = np.dtype(np.int16)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.length)

    def __len__(self) -> int:
        return len(self.rows) + len(self.tail)

    def subset(self, index) -> DiskClips:
        """The clips at `index` (a boolean mask or positions), as a view: nothing is read."""
        index = np.arange(len(self))[index]
        on_disk = index < len(self.rows)
        return DiskClips(self.path, self.length, self.rows[index[on_disk]], self.tail[index[~on_disk] - len(self.rows)])

    def join(self, other: DiskClips | np.ndarray) -> DiskClips:
        """These clips, then `other`'s: in-memory clips are kept in the tail (this view's must be empty, or
        `other` of the same file with an empty tail)."""
        if isinstance(other, DiskClips):
            if other.path != self.path or len(self.tail):
                raise ValueError("only views of one file join, and in-memory clips go last")
            return DiskClips(self.path, self.length, np.concatenate([self.rows, other.rows]), other.tail)
        return DiskClips(self.path, self.length, self.rows, np.concatenate([self.tail, np.asarray(other, np.int16)]))

    def __getitem__(self, index) -> np.ndarray:
        """Reads the clips at `index` (an int, a slice or positions); a boolean mask gives a view instead."""
        if isinstance(index, np.ndarray) and index.dtype == bool:
            return self.subset(index)
        if isinstance(index, (int, np.integer)):
            return self.read(np.array([index]))[0]
        return self.read(np.arange(len(self))[index])

    def read(self, index) -> np.ndarray:
        """int16 [len(index), length] for positions `index`."""
        index = np.asarray(index, np.int64).reshape(-1)
        out = np.empty((len(index), self.length), np.int16)
        on_disk = index < len(self.rows)
        size = self.length * ITEM
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for i in np.flatnonzero(on_disk):
                out[i] = np.frombuffer(os.pread(fd, size, int(self.rows[index[i]]) * size), np.int16)
        finally:
            os.close(fd)
        if (~on_disk).any():
            out[~on_disk] = self.tail[index[~on_disk] - len(self.rows)]
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
