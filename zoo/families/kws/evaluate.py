"""Keyword metrics: accuracy, per-class precision and recall, and a confusion-matrix PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, classification_report, confusion_matrix

from zoo.audio.speech import SILENCE, UNKNOWN
from zoo.core import runs
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.kws.data import eval_data


def evaluate(predict_logits, x: np.ndarray, y: np.ndarray, labels, out_dir: Path | None,
             tag: str = "test") -> dict:
    """Accuracy, per-class precision/recall and a confusion-matrix PNG.

    Args:
        predict_logits: callable float32 audio [B, N] -> logits [B, C].
        x: int16 or float audio; y: int labels.
        labels: class names.
        out_dir: where `confusion_{tag}.png` goes (None: no plot).
    """
    def floats(batch):  # a batch at a time: `x` may be clips on disk (`DiskClips`)
        batch = np.asarray(batch)
        return batch.astype(np.float32) / 32768.0 if batch.dtype == np.int16 else batch

    logits = np.concatenate([predict_logits(floats(x[i:i + 256])) for i in range(0, len(x), 256)])
    pred = logits.argmax(-1)
    present = sorted(set(y.tolist()) | set(pred.tolist()))
    report = classification_report(y, pred, labels=present, target_names=[labels[i] for i in present],
                                   output_dict=True, zero_division=0)
    words = np.array([name not in (SILENCE, UNKNOWN) for name in labels])[y]
    result = {
        "clips": int(len(y)),
        "accuracy": float(np.mean(pred == y)),
        "errors": int(np.sum(pred != y)),
        # On the keyword clips alone: comparable with data sets' own test splits (no added noise clips).
        "keyword_clips": int(words.sum()),
        "keyword_accuracy": float(np.mean(pred[words] == y[words])) if words.any() else 0.0,
        "per_class": {labels[i]: {"precision": round(report[labels[i]]["precision"], 4),
                                  "recall": round(report[labels[i]]["recall"], 4),
                                  "support": int(report[labels[i]]["support"])} for i in present},
    }
    if out_dir is not None:
        cm = confusion_matrix(y, pred, labels=list(range(len(labels))))
        fig = Figure(figsize=(1 + 0.5 * len(labels), 1 + 0.5 * len(labels)))
        ax = fig.subplots()
        ConfusionMatrixDisplay(cm, display_labels=labels).plot(ax=ax, colorbar=False, xticks_rotation=90)
        ax.set_title(f"{tag}: accuracy {result['accuracy']:.2%} on {len(y)} clips")
        fig.tight_layout()
        runs.save_figure(fig, out_dir / f"confusion_{tag}.png")
    return result


def final_metrics(model, splits: Splits, run_dir: Path, recipe: Recipe) -> dict:
    """Validation and test metrics of the best checkpoint, with a test confusion matrix."""
    val = model.evaluate(splits.validation, verbose=0, return_dict=True)
    metrics = {"validation_accuracy": float(val["accuracy"]), "labels": splits.meta}
    x, y = splits.test
    if len(y):
        metrics["test"] = evaluate(lambda a: model.predict_on_batch(a), x, y, splits.meta, run_dir, "test")
        metrics["test_accuracy"] = metrics["test"]["accuracy"]
        metrics["test_keyword_accuracy"] = metrics["test"]["keyword_accuracy"]
    return metrics


def evaluate_run(recipe: Recipe, model, labels, run_dir: Path, data_root: Path,
                 split: str | None) -> tuple[dict, str]:
    """Accuracy, per-class metrics and a confusion PNG of the run's model on a data set (`zoo eval`)."""
    x, y, info = eval_data(recipe, labels, data_root, split)
    tag = f"{recipe.data.source}_{split or 'all'}"
    result = evaluate(lambda b: model.predict_on_batch(b), x, y, labels, Path(run_dir), tag)
    result.update(info)
    return result, tag
