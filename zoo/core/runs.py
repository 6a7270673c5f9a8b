"""The run directory: the one contract that train, eval, export and predict share.

    RUN/
      recipe.json       resolved recipe (after overrides)
      model.keras       best model by the validation metric (safe-mode loadable)
      labels.json       the family's labels (or vocab.json, its vocabulary)
      checkpoints/      weights + optimizer state for --resume
      history.csv, metrics.json, data.json, logs/ (TensorBoard), curves.png, confusion_*.png
      exports/          *.tflite, saved_model/, export.json

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> write_json(p, {"a": 1}); read_json(p)
    {'a': 1}
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path

from zoo.core.errors import ZooError

RECIPE, MODEL, HISTORY, METRICS, CHECKPOINTS = (
    "recipe.json", "model.keras", "history.csv", "metrics.json", "checkpoints")


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yields a temporary name beside `path` (same suffix, so writers that go by it still work);
    renames it to `path` when the block succeeds, removes it when it fails. The name is the
    writer's own, so processes writing the same file at once (seeds sharing a data cache) each
    write a whole file and never rename another's.
    A write that fails for want of room or permission is a one-line `ZooError` naming `path`.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise ZooError(f"{path}: cannot write ({e.strerror or e})") from None
    finally:
        tmp.unlink(missing_ok=True)


_TEMPORARY = re.compile(r"\.tmp-(\d+)-[0-9a-f]{8}")


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Removes the temporary files `atomic_path` writers left under `folder` when they were killed (their
    process is gone); returns them."""
    removed = []
    for path in Path(folder).rglob("*.tmp-*"):
        match = _TEMPORARY.search(path.name)
        if match and path.is_file() and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def save_figure(fig, path: Path, dpi: int = 100, format: str | None = "png") -> None:
    """Saves a Matplotlib figure atomically, as PNG (or, with `format=None`, as `path`'s suffix says)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=format)


def write_json(path: Path, obj) -> None:
    """Writes JSON atomically (temporary name, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n")


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ZooError(f"{path}: not found") from None
    except json.JSONDecodeError as e:
        raise ZooError(f"{path}: not valid JSON ({e})") from None


def default_dir(recipe_name: str) -> Path:
    return Path("models") / recipe_name / "run"


def prepare(run_dir: Path, recipe_json: dict, resume: bool, overwrite: bool = False) -> dict:
    """Checks a run directory before training; creates nothing.

    Returns the recipe to train: the one given, or on --resume the saved one. An existing directory is
    refused unless `resume`, or `overwrite` and it is a run directory (a folder of other files never is).
    """
    run_dir = Path(run_dir)
    saved = run_dir / RECIPE
    if resume:
        if not saved.is_file():
            raise ZooError(f"{run_dir}: nothing to resume (no {RECIPE})")
        return read_json(saved)
    if saved.exists() or (run_dir.exists() and any(run_dir.iterdir())):
        if not overwrite:
            raise ZooError(f"{run_dir}: run directory exists; pass --resume to continue it, --overwrite to "
                           f"replace it, or --out for a new one")
        if not saved.is_file():
            raise ZooError(f"{run_dir}: not a run directory (no {RECIPE}); --overwrite replaces only runs")
    return recipe_json


def create(run_dir: Path, recipe_json: dict, overwrite: bool = False) -> None:
    """Creates the run directory with its resolved recipe (once the data has loaded); with `overwrite`,
    the run that was there is removed first."""
    run_dir = Path(run_dir)
    if overwrite and (run_dir / RECIPE).is_file():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / RECIPE, recipe_json)


def require_run(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    if not (run_dir / RECIPE).is_file():
        raise ZooError(f"{run_dir}: not a run directory (no {RECIPE})")
    if not (run_dir / MODEL).is_file():
        raise ZooError(f"{run_dir}: run has no {MODEL} yet (train it first)")
    return run_dir


def best_value(rows: list[dict], monitor: str, mode: str):
    """The best monitored value in history rows, so a resumed run keeps the best model."""
    values = [float(row[monitor]) for row in rows if row.get(monitor) not in (None, "")]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)
