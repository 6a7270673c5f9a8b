"""The adding problem's data: generated, never read from disk.

Training draws fresh sequences for every batch (there is no training set to
memorise); validation and test are fixed draws, the same for every training
seed, from seeds of their own. One TensorFlow function generates all three.

Example:
    >>> x, y = adding_problem(3, 10, seed=(0, 1))
    >>> x.shape, y.shape, x[..., 1].numpy().sum(axis=1).tolist()
    (TensorShape([3, 10, 2]), TensorShape([3, 1]), [2.0, 2.0, 2.0])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe

VALIDATION_SEED, TEST_SEED = (1, 7919), (2, 7919)


def adding_problem(n: int, length: int, seed) -> tuple[tf.Tensor, tf.Tensor]:
    """`n` sequences of `length` steps: x [n, length, 2] (value, marker), y [n, 1] the sum of the marked values.

    One marker falls in the first half (steps 0 to length // 2 - 1), one in the second.
    `seed` is a stateless seed: a pair of integers (or an int64 tensor of shape [2]).
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    half = length // 2
    values = tf.random.stateless_uniform((n, length), seeds[0])
    first = tf.random.stateless_uniform((n,), seeds[1], maxval=half, dtype=tf.int32)
    second = tf.random.stateless_uniform((n,), seeds[2], minval=half, maxval=length, dtype=tf.int32)
    markers = tf.one_hot(first, length) + tf.one_hot(second, length)
    return tf.stack([values, markers], axis=-1), tf.reduce_sum(values * markers, axis=1, keepdims=True)


def check_length(length: int) -> None:
    if length < 2:
        raise ZooError(f"data.length={length}: the adding problem needs at least 2 steps (one marker per half)")


def fixed_split(recipe: Recipe, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The validation or test set as arrays (the same for every training seed)."""
    d = recipe.data
    check_length(d.length)
    size, seed = (d.validation_size, VALIDATION_SEED) if split == "validation" else (d.test_size, TEST_SEED)
    x, y = adding_problem(size, d.length, seed)
    return x.numpy(), y.numpy()


def datasets(recipe: Recipe, data_root: Path) -> Splits:
    """Fresh training batches from the training seed; the fixed validation set; the fixed test set."""
    d, t = recipe.data, recipe.train
    check_length(d.length)
    if not t.steps_per_epoch:
        raise ZooError("the adding problem is generated without end: set train.steps_per_epoch")
    train = (tf.data.Dataset.random(seed=t.seed, rerandomize_each_iteration=True)
             .batch(2, drop_remainder=True)
             .map(lambda s: adding_problem(t.batch_size, d.length, s))
             .prefetch(tf.data.AUTOTUNE))
    vx, vy = fixed_split(recipe, "validation")
    validation = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(256).cache()
    info = {"source": d.source, "length": d.length, "validation": d.validation_size, "test": d.test_size,
            "train": f"{t.steps_per_epoch * t.batch_size} fresh sequences an epoch"}
    return Splits(train, validation, fixed_split(recipe, "test"), t.steps_per_epoch * t.batch_size,
                  {"task": "adding", "length": d.length, "tolerance": d.tolerance}, info)
