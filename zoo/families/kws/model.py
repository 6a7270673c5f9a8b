"""The keyword model: raw audio -> log-mel/MFCC front end -> SpecAugment -> RNN/LSTM/GRU -> pooling -> logits.

The builder takes explicit arguments (keras-hub style); `build` reads them off a recipe.

Example:
    >>> from zoo.families.kws.recipes import recipes
    >>> recipe = recipes()[0]
    >>> model = build(recipe, labels=list("abc"))
    >>> from zoo.families.kws.size import count_params
    >>> model.output_shape, model.count_params() == count_params(recipe, 3)
    ((None, 3), True)
"""

from __future__ import annotations

import keras

from zoo.audio.features import AudioFeatures, SpecAugment
from zoo.core.errors import ZooError
from zoo.core.recipe import Recipe
from zoo.nn.layers import AttentionPooling
from zoo.nn.recurrent import recurrent_layer

POOLINGS = ("last", "mean", "max", "attention")


def front_end(recipe: Recipe) -> AudioFeatures:
    """The feature layer of a recipe (its frames, hop, FFT size and mel bands)."""
    m, d = recipe.model, recipe.data
    frame = int(round(d.sample_rate * m.frame_ms / 1000))
    fft = 1 << (frame - 1).bit_length()
    return AudioFeatures(
        sample_rate=d.sample_rate, frame_length=frame,
        frame_step=int(round(d.sample_rate * m.step_ms / 1000)), fft_length=fft,
        num_mel_bins=m.num_mel_bins, fmin=m.fmin, fmax=m.fmax, num_mfcc=m.num_mfcc,
        normalize=m.normalize, floor_db=m.floor_db, name="features")


def num_samples(recipe: Recipe) -> int:
    return int(round(recipe.data.sample_rate * recipe.data.clip_seconds))


def build(recipe: Recipe, labels) -> keras.Model:
    """The classifier: raw audio [B, samples] -> logits [B, len(labels)].

    Args:
        recipe: a kws recipe.
        labels: class names (their count sets the output size).
    """
    m = recipe.model
    if m.pooling not in POOLINGS:
        raise ZooError(f"model.pooling={m.pooling!r}: choose {', '.join(POOLINGS)}")
    inputs = keras.Input((num_samples(recipe),), name="audio")
    x = front_end(recipe)(inputs)
    x = SpecAugment(m.time_masks, m.time_width, m.freq_masks, m.freq_width,
                    seed=recipe.train.seed, name="specaugment")(x)
    if m.conv_filters:
        x = keras.layers.Conv1D(m.conv_filters, 5, padding="same", activation="relu", name="conv1")(x)
        x = keras.layers.Conv1D(m.conv_filters, 5, strides=2, padding="same", activation="relu", name="conv2")(x)
    for i in range(m.layers):
        last = i == m.layers - 1
        layer = recurrent_layer(m.cell, m.units, return_sequences=not (last and m.pooling == "last"),
                                name=f"{m.cell}{i + 1}")
        if m.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bi{m.cell}{i + 1}")
        x = layer(x)
        if m.dropout:
            x = keras.layers.Dropout(m.dropout, name=f"dropout{i + 1}")(x)
    if m.pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    elif m.pooling == "max":
        x = keras.layers.GlobalMaxPooling1D(name="pool")(x)
    elif m.pooling == "attention":
        x = AttentionPooling(name="pool")(x)
    outputs = keras.layers.Dense(len(labels), name="logits")(x)
    return keras.Model(inputs, outputs, name=recipe.name)
