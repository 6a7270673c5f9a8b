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
import csv
import json
import os
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


def save_figure(fig, path: Path, dpi: int = 100) -> None:
    """Saves a Matplotlib figure as PNG atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


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


def prepare(run_dir: Path, recipe_json: dict, resume: bool) -> dict:
    """Checks a run directory before training; creates nothing.

    Returns the recipe to train: the one given, or on --resume the saved one.
    """
    run_dir = Path(run_dir)
    saved = run_dir / RECIPE
    if resume:
        if not saved.is_file():
            raise ZooError(f"{run_dir}: nothing to resume (no {RECIPE})")
        return read_json(saved)
    if saved.exists() or (run_dir.exists() and any(run_dir.iterdir())):
        raise ZooError(f"{run_dir}: run directory exists; pass --resume to continue it or --out for a new one")
    return recipe_json


def create(run_dir: Path, recipe_json: dict) -> None:
    """Creates the run directory with its resolved recipe (once the data has loaded)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    write_json(Path(run_dir) / RECIPE, recipe_json)


def require_run(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    if not (run_dir / RECIPE).is_file():
        raise ZooError(f"{run_dir}: not a run directory (no {RECIPE})")
    if not (run_dir / MODEL).is_file():
        raise ZooError(f"{run_dir}: run has no {MODEL} yet (train it first)")
    return run_dir


def best_from_history(run_dir: Path, monitor: str, mode: str):
    """The best monitored value so far, so a resumed run keeps the best checkpoint."""
    path = Path(run_dir) / HISTORY
    if not path.is_file():
        return None
    with open(path) as f:
        values = [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor)]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)
