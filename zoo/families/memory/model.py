"""The memory model: (value, marker) steps -> stacked rnn/lstm/gru -> the last state -> Dense(1), the sum.

Nothing but the recurrent state carries the first marked value to the end: no
pooling, no attention, no bidirectional pass. The input has no fixed length, so
one model reads sequences of any T.

Example:
    >>> from zoo.families.memory.recipes import recipes
    >>> model = build(recipes()[1])
    >>> from zoo.families.memory.size import count_params
    >>> model.output_shape, model.count_params() == count_params(recipes()[1])
    ((None, 1), True)
"""

from __future__ import annotations

import keras

from zoo.core.recipe import Recipe
from zoo.families.memory.size import FEATURES
from zoo.nn.recurrent import recurrent_layer


def build(recipe: Recipe) -> keras.Model:
    """sequence [B, T, 2] -> sum [B, 1]."""
    m = recipe.model
    x = inputs = keras.Input((None, FEATURES), name="sequence")
    for i in range(m.layers):
        x = recurrent_layer(m.cell, m.units, return_sequences=i < m.layers - 1, name=f"{m.cell}{i + 1}")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="sum")(x), name=recipe.name)
