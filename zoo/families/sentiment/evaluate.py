"""Sentiment metrics: accuracy, and a confusion matrix figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.sentiment.data import encode_split
from zoo.families.sentiment.sources import load


def predict_logits(model, x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + 256])) for i in range(0, len(x), 256)])


def score(model, x: np.ndarray, y: np.ndarray, labels: list[str], figure: Path | None = None) -> dict:
    """Accuracy and the confusion matrix (rows: true label) of `model` on (x, y); draws it to `figure`."""
    predicted = predict_logits(model, x).argmax(-1)
    confusion = np.zeros((len(labels), len(labels)), int)
    np.add.at(confusion, (y, predicted), 1)
    if figure:
        fig = Figure(figsize=(3.6, 3.2))
        ax = fig.subplots()
        ax.imshow(confusion, cmap="Blues")
        for (i, j), n in np.ndenumerate(confusion):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=9)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        fig.tight_layout()
        runs.save_figure(fig, figure)
    return {"texts": int(len(y)), "accuracy": round(float(np.mean(predicted == y)), 4),
            "confusion": confusion.tolist(), "labels": labels}


def final_metrics(model, splits: Splits, run_dir: Path, recipe: Recipe) -> dict:
    """Validation and test accuracy of the kept model (the test split is scored here, once)."""
    x = np.concatenate([b[0].numpy() for b in splits.validation])
    y = np.concatenate([b[1].numpy() for b in splits.validation])
    labels = splits.meta["labels"]
    result = {"validation_accuracy": score(model, x, y, labels)["accuracy"]}
    if splits.test is not None:
        test = score(model, *splits.test, labels, figure=Path(run_dir) / "confusion_test.png")
        result.update(test_accuracy=test["accuracy"], test_texts=test["texts"])
    return result


def evaluate_run(recipe: Recipe, model, meta, data_root: Path, split: str | None) -> tuple[dict, str]:
    """`zoo eval`: accuracy on a split of the recipe's data (all of it by default), e.g. another domain's texts."""
    texts = load(recipe, data_root)
    if split and split not in texts.splits:
        raise ZooError(f"--split {split}: choose train, validation or test")
    rows = texts.splits[split] if split else [row for rows in texts.splits.values() for row in rows]
    source = recipe.data.path or recipe.data.source
    if not rows:
        raise ZooError(f"{source}: no labelled texts in {split or 'any'} split")
    x, y = encode_split(rows, meta["vocabulary"], meta["labels"], recipe.data.max_tokens, source)
    tag = f"{recipe.data.source}_{Path(recipe.data.path).stem or recipe.data.source}_{split or 'all'}"
    result = score(model, x, y, meta["labels"])
    result["skipped"] = len(texts.skipped)
    return result, tag
