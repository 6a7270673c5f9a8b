"""The text model: characters -> Embedding -> stacked rnn/lstm/gru -> next-character logits.

Training reads windows with a fresh state; generation and the exported LiteRT
model step one character at a time through `zoo.nn.recurrent.Stack`, carrying
the packed state, so a prefix is never re-run.

Example:
    >>> from zoo.families.chargen.recipes import recipes
    >>> recipe = recipes()[0]
    >>> model = build(recipe, vocab_size=4)
    >>> from zoo.families.chargen.size import count_params
    >>> model.output_shape, model.count_params() == count_params(recipe, 4)
    ((None, None, 4), True)
"""

from __future__ import annotations

import keras

from zoo.core.recipe import Recipe
from zoo.nn.recurrent import Stack, recurrent_layer, recurrent_layers


def build(recipe: Recipe, vocab_size: int) -> keras.Model:
    """The training model: ids [B, T] -> logits [B, T, vocab_size] (fresh state per window)."""
    m = recipe.model
    ids = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, m.embedding, name="embedding")(ids)
    if m.dropout:
        x = keras.layers.Dropout(m.dropout, name="dropout0")(x)
    for i in range(m.layers):
        x = recurrent_layer(m.cell, m.units, return_sequences=True, name=f"{m.cell}{i + 1}")(x)
        if m.dropout:
            x = keras.layers.Dropout(m.dropout, name=f"dropout{i + 1}")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(ids, logits, name=recipe.name)


def state_size(recipe: Recipe) -> int:
    """Width of the packed recurrent state: h (and c for LSTM) of every layer, concatenated."""
    m = recipe.model
    return m.layers * m.units * (2 if m.cell == "lstm" else 1)


def parts(model: keras.Model):
    """(embedding, recurrent `Stack`, output Dense) of a trained model, found by layer type."""
    embedding = next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]
    return embedding, Stack(recurrent_layers(model)), dense


def step_function(model: keras.Model):
    """(ids [B], state [B, S]) -> (logits [B, V], state [B, S]): one character, state carried.

    The state is `Stack`'s packed layout: every layer's h (and c) side by side.
    Traceable by `tf.function` and convertible to builtins-only LiteRT (no loop).
    """
    embedding, stack, dense = parts(model)

    def step(ids, state):
        y, state = stack.step(embedding(ids), state)
        return dense(y), state

    return step


def sequence_function(model: keras.Model):
    """(ids [B, T], state [B, S]) -> (logits [B, T, V], state): a window, state carried in and out."""
    embedding, stack, dense = parts(model)

    def run(ids, state):
        y, state = stack.sequence(embedding(ids), state)
        return dense(y), state

    return run
