"""Crash-safe training state: every file a run keeps while it trains is written whole or not at all.

At the end of each epoch, in this order:

1. `History` rewrites `history.csv` with every epoch so far (one row each);
2. `KeepModel` saves `model.keras` when the monitored metric improves (or every
   epoch with `train.keep='last'`);
3. `Checkpoints` saves `checkpoints/epoch-NNNN.npz`: every variable of the model
   (weights, and the random-seed state of its dropout layers) and of the
   optimizer (step count, moments, averaged weights), and keeps the newest two.

Each is written to a temporary name and renamed, so a process killed at any
moment leaves the previous good file in place. The checkpoint holds the state
training goes on from: with weight averaging (`train.ema`), the raw weights and
their averages as they were before `SwapEMAWeights` swapped the averages in for
the other callbacks (`Checkpoints.snapshot` reads them first), so a resumed run
trains on from the same weights an uninterrupted one would. `restore` loads the newest
checkpoint that reads back whole; one that does not (cut short by a crash of
the machine, or edited) is reported and the one before it is used. A resumed
run then drops history rows from the epochs it trains again, so each epoch is
in `history.csv` once.

Example:
    >>> import keras, numpy as np, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> save_state(model, folder / "epoch-0001.npz")
    >>> _ = model.layers[0].kernel.assign(np.zeros((3, 2)))
    >>> restore(model, folder)
    (1, [])
    >>> bool(np.any(model.layers[0].kernel.numpy() != 0))
    True
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from pathlib import Path

import keras
import numpy as np

from zoo.core import runs

KEEP = 2
_NAME = re.compile(r"epoch-(\d{4,})\.npz$")


def state_variables(model) -> list:
    """The model's variables (weights and seed states) and its optimizer's, built if they were not yet."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return list(model.variables) + list(model.optimizer.variables)


def state_digest(model) -> str:
    """sha256 of every model and optimizer variable's bytes, in order: equal digests, equal training states."""
    digest = hashlib.sha256()
    for variable in state_variables(model):
        digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return digest.hexdigest()


def read_state(model) -> list[np.ndarray]:
    """The values of `state_variables(model)`, copied to the host."""
    return [np.asarray(v.numpy()) for v in state_variables(model)]


def save_state(model, path: Path, values: list[np.ndarray] | None = None) -> None:
    """Every variable of `model` and its optimizer (or their `values`, read earlier with `read_state`), written
    atomically to `path` (.npz)."""
    values = read_state(model) if values is None else values
    with runs.atomic_path(path) as tmp:
        np.savez(tmp, **{f"v{i:05d}": value for i, value in enumerate(values)})


def load_state(model, path: Path) -> None:
    """Assigns the variables saved by `save_state`; raises ValueError if the file does not match."""
    variables = state_variables(model)
    with np.load(path, allow_pickle=False) as saved:
        if len(saved.files) != len(variables):
            raise ValueError(f"{len(saved.files)} variables saved, the model has {len(variables)}")
        values = [saved[f"v{i:05d}"] for i in range(len(variables))]
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"{variable.path}: shape {value.shape} saved, {tuple(variable.shape)} expected")
    for variable, value in zip(variables, values):
        variable.assign(value)


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(epochs done, file) of the checkpoints in `folder`, newest first."""
    found = [(int(m.group(1)), p) for p in Path(folder).glob("epoch-*.npz") if (m := _NAME.search(p.name))]
    return sorted(found, reverse=True)


def restore(model, folder: Path) -> tuple[int, list[str]]:
    """Loads the newest checkpoint that reads back whole: (epochs done, notes on any that did not).

    Returns (0, notes) when none does: training starts again from the first epoch.
    """
    notes = []
    for epochs, path in checkpoints(folder):
        try:
            load_state(model, path)
            return epochs, notes
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:  # cut short, or edited
            notes.append(f"{path}: unreadable checkpoint ({e}); trying the one before")
    return 0, notes


class _Snapshot(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.values = None

    def on_epoch_end(self, epoch, logs=None):
        self.values = read_state(self.model)


class Checkpoints(keras.callbacks.Callback):
    """Saves the whole training state after every epoch (atomically) and keeps the newest `KEEP`.

    The state saved is the one `snapshot` (a callback of its own) read at the epoch's end: put it before any
    callback that changes the weights at the epoch's end (`keras.callbacks.SwapEMAWeights`), and this one
    after those that must run before the checkpoint is written (`History`, `KeepModel`).
    """

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = Path(folder)
        self.snapshot = _Snapshot()

    def on_epoch_end(self, epoch, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        save_state(self.model, self.folder / f"epoch-{epoch + 1:04d}.npz", self.snapshot.values)
        self.snapshot.values = None
        for _, old in checkpoints(self.folder)[KEEP:]:
            old.unlink(missing_ok=True)


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's early stopping, which on a resumed run counts on from the epochs `rows` (`history.csv`) holds:
    the best value so far and the epochs since it, as the uninterrupted run had them.

    Example:
        >>> stop = EarlyStopping("val_accuracy", "max", patience=2, rows=[{"val_accuracy": "0.6"},
        ...                                                                {"val_accuracy": "0.5"}])
        >>> stop.on_train_begin()
        >>> stop.best, stop.wait
        (0.6, 1)
    """

    def __init__(self, monitor: str, mode: str, patience: int, rows: list[dict] = ()):
        super().__init__(monitor, mode=mode, patience=patience)
        self.rows = list(rows)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        for row in self.rows:
            if row.get(self.monitor) in (None, ""):
                continue
            value = float(row[self.monitor])
            self.wait += 1
            if self.best is None or (value > self.best if self.mode == "max" else value < self.best):
                self.best, self.wait = value, 0


class History(keras.callbacks.Callback):
    """`history.csv`, rewritten whole after every epoch: the rows of earlier epochs (kept on resume, up to the
    epoch training restarts from), then this session's."""

    def __init__(self, path: Path, start_epoch: int = 0):
        super().__init__()
        self.path = Path(path)
        self.rows = read_history(self.path)[:start_epoch] if start_epoch else []
        self.keys = list(self.rows[0]) if self.rows else []

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        self.keys += [k for k in row if k not in self.keys]
        self.rows.append(row)
        text = io.StringIO()
        writer = csv.DictWriter(text, self.keys, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        with runs.atomic_path(self.path) as tmp:
            tmp.write_text(text.getvalue())


def read_history(path: Path) -> list[dict]:
    """The rows of `history.csv` (none if there is no file)."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class KeepModel(keras.callbacks.Callback):
    """Saves the model (atomically) when `monitor` improves on the best so far, or every epoch if `last`."""

    def __init__(self, path: Path, monitor: str, mode: str, best: float | None = None, last: bool = False):
        super().__init__()
        self.path, self.monitor, self.mode, self.best, self.last = Path(path), monitor, mode, best, last

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        better = value is not None and (self.best is None or (value > self.best if self.mode == "max"
                                                              else value < self.best))
        if better:
            self.best = float(value)
        if better or self.last:
            with runs.atomic_path(self.path) as tmp:
                self.model.save(tmp)
