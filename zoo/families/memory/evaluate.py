"""Adding-problem metrics: mean squared error, and the share of answers within the tolerance.

Example:
    >>> import numpy as np
    >>> score(np.array([[1.0], [0.5]]), np.array([[1.03], [0.7]]), tolerance=0.04)["accuracy"]
    0.5
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.memory.data import fixed_split

BASELINE_MSE = 1 / 6  # always answering 1, the mean of two U(0, 1) values: the variance of their sum


def score(y: np.ndarray, predicted: np.ndarray, tolerance: float) -> dict:
    error = np.abs(np.asarray(predicted, np.float64).reshape(-1) - np.asarray(y, np.float64).reshape(-1))
    return {"sequences": int(error.size), "accuracy": round(float(np.mean(error < tolerance)), 4),
            "mse": round(float(np.mean(error ** 2)), 6), "baseline_mse": round(BASELINE_MSE, 6),
            "tolerance": tolerance}


def predict(model, x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + 256])) for i in range(0, len(x), 256)])


def final_metrics(model, splits: Splits, run_dir: Path, recipe: Recipe) -> dict:
    """Accuracy and MSE of the kept model on the fixed validation and test sets."""
    vx, vy = (np.concatenate([batch[i].numpy() for batch in splits.validation]) for i in (0, 1))  # no new draw
    tx, ty = splits.test
    tolerance = recipe.data.tolerance
    validation, test = score(vy, predict(model, vx), tolerance), score(ty, predict(model, tx), tolerance)
    return {"validation_accuracy": validation["accuracy"], "validation_mse": validation["mse"],
            "test_accuracy": test["accuracy"], "test_mse": test["mse"], "length": recipe.data.length,
            "baseline_mse": validation["baseline_mse"], "tolerance": tolerance}


def evaluate_run(recipe: Recipe, model, split: str | None) -> tuple[dict, str]:
    """`zoo eval`: one fixed split (default test) at the recipe's length."""
    split = split or "test"
    if split not in ("validation", "test"):
        raise ZooError(f"--split {split}: the adding problem has fixed validation and test sets; training "
                       "sequences are drawn fresh")
    x, y = fixed_split(recipe, split)
    result = score(y, predict(model, x), recipe.data.tolerance)
    result["length"] = recipe.data.length
    return result, f"adding{recipe.data.length}_{split}"
