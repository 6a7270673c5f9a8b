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
from zoo.core.recipe import Recipe, check_values
from zoo.families.kws.size import why_not_causal
from zoo.nn.layers import AttentionPooling, MeanProbabilities
from zoo.nn.recurrent import recurrent_layer

KERNEL, STRIDE = 5, 2  # the CRNN front: two convolutions of width KERNEL, the second with stride STRIDE


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

    With `model.members` > 1 the front end feeds that many copies of the rest, each a
    sub-model `member1`, `member2`, ... whose layers are prefixed `m1_`, `m2_`, ..., and
    the logits are the log of their mean probabilities (`MeanProbabilities`);
    `zoo ensemble` fills the members with runs trained apart.

    Args:
        recipe: a kws recipe.
        labels: class names (their count sets the output size).
    """
    m = recipe.model
    check_values(recipe)  # a caller that skips training's checks: unknown pooling, members < 1, ...
    if m.causal and why_not_causal(m):
        raise ZooError(f"{recipe.name}: model.causal=True, but {why_not_causal(m)}")
    inputs = keras.Input((num_samples(recipe),), name="audio")
    features = front_end(recipe)(inputs)
    if m.members == 1:
        return keras.Model(inputs, head(recipe, labels, features), name=recipe.name)
    members = []
    for i in range(1, m.members + 1):
        x = keras.Input(features.shape[1:], name=f"m{i}_features")
        members.append(keras.Model(x, head(recipe, labels, x, prefix=f"m{i}_"), name=f"member{i}")(features))
    return keras.Model(inputs, MeanProbabilities(name="logits")(members), name=recipe.name)


def head(recipe: Recipe, labels, x, prefix: str = ""):
    """Everything after the front end, applied to its frames `x`; layer names start with `prefix`."""
    m = recipe.model
    if m.causal:  # a fixed per-band affine at inference: no statistics of the clip
        x = keras.layers.BatchNormalization(name=f"{prefix}norm")(x)
    x = SpecAugment(m.time_masks, m.time_width, m.freq_masks, m.freq_width,
                    seed=recipe.train.seed, name=f"{prefix}specaugment")(x)
    if m.conv_filters and m.causal:
        # Left padding only. The strided convolution's output j reads frames 2j-3..2j+1, so each
        # streaming hop of STRIDE new frames yields exactly one output.
        x = keras.layers.ZeroPadding1D((KERNEL - 1, 0), name=f"{prefix}pad1")(x)
        x = keras.layers.Conv1D(m.conv_filters, KERNEL, activation="relu", name=f"{prefix}conv1")(x)
        x = keras.layers.ZeroPadding1D((KERNEL - STRIDE, 0), name=f"{prefix}pad2")(x)
        x = keras.layers.Conv1D(m.conv_filters, KERNEL, strides=STRIDE, activation="relu",
                                name=f"{prefix}conv2")(x)
    elif m.conv_filters:
        x = keras.layers.Conv1D(m.conv_filters, KERNEL, padding="same", activation="relu", name=f"{prefix}conv1")(x)
        x = keras.layers.Conv1D(m.conv_filters, KERNEL, strides=STRIDE, padding="same", activation="relu",
                                name=f"{prefix}conv2")(x)
    for i in range(m.layers):
        last = i == m.layers - 1
        layer = recurrent_layer(m.cell, m.units, return_sequences=not (last and m.pooling == "last"),
                                name=f"{prefix}{m.cell}{i + 1}")
        if m.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{prefix}bi{m.cell}{i + 1}")
        x = layer(x)
        if m.dropout:
            x = keras.layers.Dropout(m.dropout, name=f"{prefix}dropout{i + 1}")(x)
    if m.pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name=f"{prefix}pool")(x)
    elif m.pooling == "max":
        x = keras.layers.GlobalMaxPooling1D(name=f"{prefix}pool")(x)
    elif m.pooling == "attention":
        x = AttentionPooling(name=f"{prefix}pool")(x)
    return keras.layers.Dense(len(labels), name=f"{prefix}logits")(x)
