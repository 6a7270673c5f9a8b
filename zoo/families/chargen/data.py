"""Text data: read a corpus, split it in order, encode it, cut training and validation windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.chargen.recipes import SOURCES
from zoo.text import corpus as text_data
from zoo.text.corpus import Vocabulary


def load_text(recipe: Recipe, data_root: Path) -> tuple[str, list[str]]:
    """The recipe's corpus and the files skipped in it."""
    d = recipe.data
    if d.source == "pydocs":
        return text_data.pydocs_text(), []
    if d.source == "shakespeare":
        return text_data.decode_file(text_data.shakespeare_path(d.path, data_root), d.encoding), []
    if d.source == "text":
        return text_data.read_corpus(Path(d.path), d.encoding)
    raise ZooError(f"data.source={d.source!r}: choose one of {', '.join(SOURCES)}")


def split_text(recipe: Recipe, data_root: Path) -> tuple[str, str, list[str]]:
    text, skipped = load_text(recipe, data_root)
    train, validation = text_data.split(text, recipe.data.validation_fraction)
    return train, validation, skipped


def datasets(recipe: Recipe, data_root: Path) -> Splits:
    """Random training windows and contiguous validation windows, encoded with a vocabulary of the training text."""
    d, t = recipe.data, recipe.train
    train_text, val_text, skipped = split_text(recipe, data_root)
    vocab = Vocabulary.from_text(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    steps = t.steps_per_epoch or max(1, len(train_ids) // (d.seq_len * t.batch_size))
    train = text_data.random_windows(train_ids, d.seq_len, t.batch_size, steps, t.seed)
    vx, vy = text_data.contiguous_windows(val_ids, d.seq_len)
    validation = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(t.batch_size).cache()
    info = {"source": d.source, "path": d.path, "characters": {"train": len(train_ids), "validation": len(val_ids)},
            "vocabulary": len(vocab), "unknown_in_validation": int(np.sum(val_ids == 0)),
            "skipped_files": len(skipped), "skipped": skipped[:20]}
    return Splits(train, validation, (val_ids,), steps * t.batch_size, vocab, info)
