"""Reading users' `.npy` files: never unpickled, and a bad file is one line naming it.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> _ = p.write_bytes(b"hello")
    >>> try:
    ...     read_npy(p)
    ... except ZooError as e:
    ...     str(e).endswith("x.npy: not a .npy file (no NumPy header)")
    True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError

MAGIC = b"\x93NUMPY"


def read_npy(path: Path) -> np.ndarray:
    """The array in a `.npy` file (object arrays refused: they would need unpickling)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise ZooError(f"{path}: not a .npy file (no NumPy header)")
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        cause = ("it holds Python objects, which are never unpickled" if "allow_pickle" in str(e)
                 else str(e).splitlines()[0])
        raise ZooError(f"{path}: not a readable .npy array ({cause})") from None
    except (OSError, EOFError) as e:
        raise ZooError(f"{path}: not a readable .npy array ({e.__class__.__name__}: {e})") from None
