"""Memory inference: `zoo.load(PATH)` on a memory model returns an `Adder`.

A sequence file is `.npy` ([T, 2] or [N, T, 2]) or `.csv` (T rows of `value,marker`).

Example:
    >>> import numpy as np
    >>> adder = Adder(lambda x: x[:, :, 0:1].sum(axis=1), {"length": 3, "fixed_length": False}, "demo")
    >>> adder.predict(np.array([[0.25, 1.0], [0.5, 0.0], [0.5, 1.0]]))
    [{'index': 0, 'sum': 1.25, 'marked_sum': 0.75}]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from zoo.core.arrays import read_npy
from zoo.core.errors import ZooError
from zoo.core.load import output_function
from zoo.families.memory.size import FEATURES


def read_sequences(path: Path) -> np.ndarray:
    """float32 [N, T, 2] from a `.npy` or `.csv` file; a one-line error naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such sequence file")
    try:
        if path.suffix.lower() == ".npy":
            x = read_npy(path)
        elif path.suffix.lower() == ".csv":
            x = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        else:
            raise ZooError(f"{path}: a sequence file is .npy or .csv (value,marker rows)")
    except (ValueError, OSError, EOFError) as e:
        raise ZooError(f"{path}: not a readable sequence file ({str(e).splitlines()[0]})") from None
    return check_sequences(x, path)


def check_sequences(x, source) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise ZooError(f"{source}: sequences must be numbers, not {x.dtype}")
    x = x[None] if x.ndim == 2 else x
    if x.ndim != 3 or x.shape[-1] != FEATURES or x.shape[1] < 1:
        raise ZooError(f"{source}: sequences have shape [T, {FEATURES}] or [N, T, {FEATURES}] (value, marker), "
                       f"not {list(np.shape(x))}")
    if not np.all(np.isfinite(x)):
        raise ZooError(f"{source}: sequences hold NaN or infinite values")
    return x.astype(np.float32)


class Adder:
    """A trained adding-problem model: sequences in, the predicted sum of the marked values out.

    Args:
        sums: float32 [B, T, 2] -> [B, 1].
        meta: the export sidecar: `length`, and `fixed_length` (a LiteRT file reads only that length).
        source: what was loaded (for messages).
    """

    def __init__(self, sums: Callable[[np.ndarray], np.ndarray], meta: dict, source):
        self.sums, self.meta, self.source = sums, meta, source
        self.length, self.fixed = int(meta["length"]), bool(meta.get("fixed_length", True))

    def _solve(self, x: np.ndarray, source) -> list[dict]:
        if self.fixed and x.shape[1] != self.length:
            raise ZooError(f"{source}: {x.shape[1]} steps; {self.source} reads sequences of {self.length} "
                           "(a run directory or a SavedModel reads any length)")
        sums = self.sums(x)[:, 0]
        marked = (x[..., 0] * x[..., 1]).sum(axis=1)
        return [{"index": i, "sum": round(float(s), 4), "marked_sum": round(float(m), 4)}
                for i, (s, m) in enumerate(zip(sums, marked))]

    def predict(self, inputs) -> list[dict]:
        """The predicted sum (`sum`) and the true one (`marked_sum`, values times markers) per sequence.

        Args:
            inputs: a sequence file, a list of them, or an array [T, 2] or [N, T, 2].
        """
        if isinstance(inputs, np.ndarray):
            return self._solve(check_sequences(inputs, "array"), "array")
        return [{"file": str(path), **r} for path in (inputs if isinstance(inputs, (list, tuple)) else [inputs])
                for r in self._solve(read_sequences(path), path)]

    def predict_files(self, items, top_k: int = 1):
        """Yields a result per sequence of `items`, or `{"file", "error"}` for a bad file (`top_k` is unused)."""
        for path in items:
            try:
                yield from self.predict([path])
            except ZooError as e:
                yield {"file": str(path), "error": str(e)}

    @staticmethod
    def describe(result: dict) -> str:
        """One line for `zoo predict`: the file, the sequence, the predicted and the true sum."""
        return f"{result['file']}[{result['index']}]: sum {result['sum']:.4f} (marked values add to " \
               f"{result['marked_sum']:.4f})"


def open_adder(run) -> Adder:
    """The `Adder` of a loaded run, SavedModel or LiteRT file (`zoo.core.load.Loaded`)."""
    meta = dict(run.meta, fixed_length=run.kind == "tflite")
    return Adder(output_function(run.kind, run.path, run.model), meta, run.path)
