"""Sentiment data: labelled texts -> a word vocabulary of the training split -> padded ids and label indices.

Labels are the training split's label strings, sorted; the two labels `0` and
`1` (SST-2, the UCI sentences) read as `negative` and `positive`, and so do the
IMDB folders `neg` and `pos`.

Example:
    >>> label_names(["1", "0", "1"])
    ['negative', 'positive']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.sentiment.sources import load
from zoo.text.subwords import SubwordVocabulary
from zoo.text.words import PAD, UNK, WordVocabulary

BINARY = {"0": "negative", "1": "positive", "neg": "negative", "pos": "positive"}


def label_names(raw_labels) -> list[str]:
    """The label names of a split's raw labels, sorted (binary ones named)."""
    named = set(raw_labels) <= set(BINARY)
    return sorted({BINARY[label] if named else label for label in raw_labels})


def name_of(label: str, labels: list[str]) -> str:
    return BINARY.get(label, label) if label not in labels else label


def encode(vocab: WordVocabulary, texts, max_tokens: int) -> np.ndarray:
    """Padded ids [N, max_tokens] (`<bos>` words `<eos>`, cut to fit, then `<pad>`)."""
    ids = np.full((len(texts), max_tokens), PAD, np.int32)
    for i, row in enumerate(vocab.encode_many(list(texts), max_tokens)):
        ids[i, :len(row)] = row
    return ids


def encode_split(rows, vocab: WordVocabulary, labels: list[str], max_tokens: int, source: str):
    """(ids [N, max_tokens], label indices [N]) of (text, label) rows; an unknown label is a one-line error."""
    index = {name: i for i, name in enumerate(labels)}
    unknown = sorted({name_of(label, labels) for _, label in rows} - set(index))
    if unknown:
        raise ZooError(f"{source}: labels {', '.join(unknown)} are not the model's ({', '.join(labels)})")
    y = np.array([index[name_of(label, labels)] for _, label in rows], np.int32)
    return encode(vocab, [text for text, _ in rows], max_tokens), y


def drop_words(ids, rate: float):
    """`ids` with each word (not `<pad>`, `<bos>`, `<eos>`) replaced by `<unk>` with probability `rate`."""
    hit = (tf.random.uniform(tf.shape(ids)) < rate) & (ids > UNK)
    return tf.where(hit, tf.constant(UNK, ids.dtype), ids)


def datasets(recipe: Recipe, data_root: Path) -> Splits:
    """Shuffled training batches, validation batches, the test split as arrays; meta = (vocabulary, labels)."""
    d, t = recipe.data, recipe.train
    texts = load(recipe, data_root)
    train_rows = texts.splits["train"]
    if not train_rows or not texts.splits["validation"]:
        raise ZooError(f"{d.path or d.source}: no labelled texts in the {'train' if not train_rows else 'validation'} "
                       f"split ({len(texts.skipped)} lines skipped)")
    labels = label_names([label for _, label in train_rows])
    if len(labels) < 2:
        raise ZooError(f"{d.path or d.source}: the training texts have one label ({labels[0]}); a classifier needs two")
    vocabulary = SubwordVocabulary if d.tokens == "subwords" else WordVocabulary
    vocab = vocabulary.from_captions([text for text, _ in train_rows], d.min_count, d.max_words)
    x, y = encode_split(train_rows, vocab, labels, d.max_tokens, d.path)
    vx, vy = encode_split(texts.splits["validation"], vocab, labels, d.max_tokens, d.path)
    test = encode_split(texts.splits["test"], vocab, labels, d.max_tokens, d.path) if texts.splits["test"] else None
    train = (tf.data.Dataset.from_tensor_slices((x, y)).cache()
             .shuffle(len(y), seed=t.seed, reshuffle_each_iteration=True)
             .batch(t.batch_size))
    if d.word_dropout:
        train = train.map(lambda ids, labels: (drop_words(ids, d.word_dropout), labels))
    train = train.prefetch(tf.data.AUTOTUNE)
    validation = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(256).cache()
    info = {"source": d.source, "path": d.path, "labels": labels, "vocabulary": len(vocab),
            "texts": {split: len(rows) for split, rows in texts.splits.items()},
            "cut_to_max_tokens": int(np.sum(x[:, -1] != PAD)),
            "skipped": len(texts.skipped), "skipped_lines": texts.skipped[:20]}
    return Splits(train, validation, test, len(y), {"vocabulary": vocab, "labels": labels}, info)
