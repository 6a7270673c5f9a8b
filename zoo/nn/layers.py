"""Small layers shared by families: attention pooling, luma, an ensemble's average, and a marker for
training-only layers.

Example:
    >>> import numpy as np
    >>> AttentionPooling()(np.ones((2, 5, 3), "float32")).shape
    TensorShape([2, 3])
    >>> logits = MeanProbabilities()([np.log([[0.9, 0.1]]), np.log([[0.5, 0.5]])])
    >>> np.round(np.exp(np.asarray(logits)), 3)
    array([[0.7, 0.3]], dtype=float32)
"""

from __future__ import annotations

import keras
from keras import ops


class TrainingOnly:
    """Mixin for layers that are the identity at inference (augmentation).

    Graph rebuilds such as the int8 export skip them by this type, not by name.
    """


class AttentionPooling(keras.layers.Layer):
    """Softmax-weighted average over time of [B, T, D] -> [B, D] (one learned query)."""

    def build(self, input_shape):
        self.score = keras.layers.Dense(1, name="score")
        self.score.build(input_shape)

    def call(self, x):
        weights = ops.softmax(self.score(x), axis=1)
        return ops.sum(weights * x, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


class Luminance(keras.layers.Layer):
    """RGB [..., 3] -> luma [..., 1] with the ITU-R BT.601 weights (0.299, 0.587, 0.114); no weights to learn.

    A shape seen through luma alone cannot depend on its colour, which is what
    lets a frame encoder name shapes in colours it never saw them in.
    """

    def call(self, x):
        return ops.sum(x * ops.convert_to_tensor([0.299, 0.587, 0.114], dtype=x.dtype), axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


class MeanProbabilities(keras.layers.Layer):
    """An ensemble's answer: members' logits (a list of [B, C]) -> log of their mean softmax [B, C].

    The result is a logit vector whose softmax is the members' mean probabilities, so
    whatever reads a model's logits reads an ensemble's the same way.
    """

    def call(self, members):
        probs = ops.mean(ops.stack([ops.softmax(m, axis=-1) for m in members]), axis=0)
        return ops.log(ops.maximum(probs, 1e-30))

    def compute_output_shape(self, input_shape):
        return input_shape[0]
