"""Text metrics: loss in nats and bits per character, per window and with the state carried through the text."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core import runs
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.chargen.data import split_text
from zoo.families.chargen.generate import Generator
from zoo.families.chargen.model import sequence_function, state_size
from zoo.text import corpus as text_data
from zoo.text.corpus import Vocabulary

LN2 = math.log(2.0)


def score(model, recipe: Recipe, ids: np.ndarray, streams: int = 64, chunk: int = 512) -> dict:
    """Loss over every character of `ids`, state carried from chunk to chunk.

    The text is cut into `streams` parallel contiguous streams, each read from
    its start with the state carried throughout, so every character is
    predicted from all the text before it in its stream.
    """
    x, y = text_data.streams(ids, streams)
    run = tf.function(sequence_function(model), reduce_retracing=True)
    state = tf.zeros((x.shape[0], state_size(recipe)))
    total = 0.0
    for start in range(0, x.shape[1], chunk):
        logits, state = run(tf.constant(x[:, start:start + chunk]), state)
        total += float(tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
            y[:, start:start + chunk], logits)))
    loss = total / y.size
    return {"characters": int(y.size), "loss_nats": round(loss, 4), "bits_per_char": round(loss / LN2, 4)}


def final_metrics(model, splits: Splits, run_dir: Path, recipe: Recipe) -> dict:
    """Validation loss of the best checkpoint: per window (as in training) and with the state carried."""
    windows = model.evaluate(splits.validation, verbose=0, return_dict=True)
    full = score(model, recipe, splits.test[0])
    sample = "".join(Generator.from_keras(model, splits.meta).stream("\n", 300, temperature=0.8, seed=0))
    with runs.atomic_path(Path(run_dir) / "sample.txt") as tmp:
        tmp.write_text(sample, encoding="utf-8")
    return {"validation_loss": round(float(windows["loss"]), 4),
            "validation_bits_per_char": round(float(windows["loss"]) / LN2, 4),
            "validation_window": recipe.data.seq_len,
            "validation_stateful": full,
            "vocabulary": len(splits.meta)}


def evaluate_run(recipe: Recipe, model, vocab: Vocabulary, run_dir: Path, data_root: Path,
                 split: str | None) -> tuple[dict, str]:
    """Loss and bits per character of the run's model on a text (`zoo eval`)."""
    train_text, val_text, skipped = split_text(recipe, data_root)
    text = {"train": train_text, "validation": val_text, "test": val_text}.get(split, train_text + val_text)
    ids = vocab.encode(text)
    result = score(model, recipe, ids)
    xw, yw = text_data.contiguous_windows(ids, recipe.data.seq_len)
    windows = model.evaluate(xw, yw, batch_size=64, verbose=0, return_dict=True)
    result.update(window_loss_nats=round(float(windows["loss"]), 4), window=recipe.data.seq_len,
                  window_bits_per_char=round(float(windows["loss"]) / LN2, 4),
                  unknown_characters=int(np.sum(ids == 0)), skipped_files=len(skipped))
    return result, f"{recipe.data.source}_{'validation' if split == 'test' else split or 'all'}"
