"""The sentiment model: word ids -> Embedding (pads masked) -> (bi)directional rnn/lstm/gru -> last state or
mean over words -> logits.

Padding id 0 is masked, so a padded text gives the same scores as the text
alone, in Keras and in the exported LiteRT file.

Example:
    >>> from zoo.families.sentiment.recipes import recipes
    >>> from zoo.families.sentiment.size import count_params
    >>> model = build(recipes()[0], vocab_size=50, labels=2)
    >>> model.output_shape, model.count_params() == count_params(recipes()[0], 50, 2)
    ((None, 2), True)
"""

from __future__ import annotations

import keras

from zoo.core.recipe import Recipe
from zoo.nn.adversarial import AdversarialModel
from zoo.nn.recurrent import recurrent_layer


def build(recipe: Recipe, vocab_size: int, labels: int) -> keras.Model:
    """ids [B, T] int32 (0 = padding) -> logits [B, labels]."""
    m = recipe.model
    ids = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, m.embedding, mask_zero=True, name="embedding")(ids)
    if m.dropout:
        x = keras.layers.Dropout(m.dropout, name="embedding_dropout")(x)
    for i in range(m.layers):
        sequences = i < m.layers - 1 or m.pooling == "mean"
        layer = recurrent_layer(m.cell, m.units, return_sequences=sequences, name=f"{m.cell}{i + 1}")
        if m.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bi{m.cell}{i + 1}")
        x = layer(x)
    if m.pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name="mean_over_words")(x)  # the mask keeps padding out
    if m.dropout:
        x = keras.layers.Dropout(m.dropout, name="summary_dropout")(x)
    logits = keras.layers.Dense(labels, name="logits")(x)
    if m.adversarial:  # trained at the embedding table's worst nearby point (zoo.nn.adversarial)
        return AdversarialModel(ids, logits, adversarial=m.adversarial, name=recipe.name)
    return keras.Model(ids, logits, name=recipe.name)
