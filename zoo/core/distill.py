"""Ensemble distillation: training targets mixed with the averaged probabilities of teacher runs.

With `train.teachers` (run directories of the same family, trained on the same
labels), every training batch's target becomes

    (1 - w) * label + w * mean over teachers of softmax(teacher(x))

with `w = train.teacher_weight`, the teachers reading the very batch the student
reads (after augmentation). One student then learns what an ensemble knows:
which answers it is sure of and which it is not, on noisy inputs as well as
clean ones. The student is an ordinary run: the teachers are named in its
`recipe.json` and needed only while it trains.

Only families whose targets are class probabilities and whose models return
logits offer it (`Capabilities.distills`).

Example (the averaged target of one teacher that always answers class 1):
    >>> import numpy as np, keras
    >>> x = keras.Input((2,)); sure = keras.Model(x, keras.layers.Dense(2, kernel_initializer="zeros",
    ...     bias_initializer=keras.initializers.Constant([0.0, 50.0]))(x))
    >>> mix = teacher_mixer([sure], 0.5)
    >>> np.round(mix(np.ones((1, 2), "float32"), np.array([[1.0, 0.0]], "float32"))[1].numpy(), 3)
    array([[0.5, 0.5]], dtype=float32)
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.load import load_run
from zoo.core.recipe import Recipe


def load_teachers(recipe: Recipe, family: Family, meta) -> list:
    """The Keras models of `recipe.train.teachers`, loaded in safe mode and checked against the student.

    Each must be a run directory of `family` whose labels (its saved `meta`) equal the
    student's; anything else is a one-line error naming the directory.
    """
    t = recipe.train
    if not t.teachers:
        return []
    if not family.capabilities.distills:
        raise ZooError(f"train.teachers: {family.title} models cannot be distilled (their targets are not "
                       "class probabilities)")
    if not 0.0 < t.teacher_weight <= 1.0:
        raise ZooError(f"train.teacher_weight={t.teacher_weight}: choose a share in (0, 1]")
    models = []
    for name in t.teachers:
        run_dir = runs.require_run(Path(name))
        kind = runs.read_json(run_dir / runs.RECIPE).get("family")
        if kind != family.name:
            raise ZooError(f"{run_dir}: a teacher must be a {family.name} run, not {kind!r}")
        if family.load_meta(run_dir) != meta:
            raise ZooError(f"{run_dir}: the teacher's labels differ from the student's ({meta})")
        models.append(load_run(run_dir, {family.name: family})[2])
    return models


def teacher_mixer(teachers: list, weight: float):
    """(x, y) -> (x, (1 - weight) * y + weight * the teachers' mean probabilities on x), for `Dataset.map`."""

    def mix(x, y):
        probs = tf.add_n([tf.nn.softmax(teacher(x, training=False)) for teacher in teachers]) / len(teachers)
        return x, (1.0 - weight) * y + weight * tf.cast(probs, y.dtype)

    return mix


def with_teachers(dataset, teachers: list, weight: float):
    """`dataset` of (input, one-hot target) batches with the teachers' probabilities mixed into the targets."""
    if not teachers:
        return dataset
    return dataset.map(teacher_mixer(teachers, weight), num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE)
