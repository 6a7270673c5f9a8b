"""The captioning model: a frame encoder, a head (meanpool, s2vt or attention), the word decoder.

    video [B, F, S, S, 3] (pixels 0-255)  or  features [B, F, D]
      -> frame encoder -> frame vectors [B, F, frame_dim]  (`slots`: [B, F, K, frame_dim])
      -> head: initial decoder state (+ attention memory [B, F, units]; over slots, every
         head runs per slot and the memory is [B, K, units], or [B, K * F, units] for attention)
      -> CaptionDecoder(words [B, L]) -> logits [B, L, vocab]

Training feeds the true caption (teacher forcing). Decoding runs the encoder
once (`encoder_model`) and then `CaptionDecoder.step` word by word; the
exported LiteRT file has the same two parts as two signatures.

Example:
    >>> from zoo.families.caption.recipes import recipes
    >>> from zoo.core.recipe import apply_overrides
    >>> recipe = apply_overrides(recipes()[1], ["model.units=4", "model.size=16", "model.conv_filters=(2,)",
    ...                                         "model.concepts=0.0"])
    >>> model = build(recipe, vocab_size=9)
    >>> model.output_shape
    (None, None, 9)
    >>> [tuple(t.shape) for t in encoder_model(model).outputs]
    [(None, 4), (None, 36, 4)]
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

from zoo.core.recipe import Recipe
from zoo.families.caption.decoder import CaptionDecoder
from zoo.families.caption.size import COLOUR_FILTERS, SLOTS, WHERE_FILTERS
from zoo.families.caption.slots import ColourSlots, SlotEmbedding
from zoo.nn.layers import Luminance
from zoo.nn.recurrent import recurrent_layer

MOBILENET_WEIGHTS = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"


def mobilenet_weights() -> Path | None:
    """The local ImageNet weights of MobileNetV3-Small (no top), or None when absent (no download)."""
    path = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models" / MOBILENET_WEIGHTS
    return path if path.is_file() else None


def input_spec(recipe: Recipe) -> tuple[tuple, str]:
    """(shape without the batch, name) of the clip input the model takes."""
    m = recipe.model
    if m.encoder == "features":
        return (m.frames, m.feature_dim), "features"
    return (m.frames, m.size, m.size, 3), "video"


def conv_encoder(m, clip):
    """The trainable frame encoder: a luma stream for shapes, a colour stream, fused on one grid.

    Shape stream: luma only (`Luminance`), then per conv filter count a 3x3
    convolution, batch norm, ReLU and 2x2 max pooling. Colour stream: a 1x1
    convolution of RGB max-pooled to the same grid. Each frame's vector is the
    fused grid reduced by a 1x1 convolution and flattened (where things are),
    with the grid's maximum (what is anywhere). Shapes learned through luma
    carry over to colours never seen with them (see the model card).
    """
    x = keras.layers.Rescaling(1.0 / 255.0, name="pixels")(clip)
    shape = Luminance(name="luminance")(x)
    for i, filters in enumerate(m.conv_filters):
        shape = keras.layers.TimeDistributed(keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                                             name=f"conv{i + 1}")(shape)
        shape = keras.layers.BatchNormalization(name=f"norm{i + 1}")(shape)
        shape = keras.layers.ReLU(name=f"relu{i + 1}")(shape)
        shape = keras.layers.TimeDistributed(keras.layers.MaxPooling2D(), name=f"pool{i + 1}")(shape)
    colour = keras.layers.TimeDistributed(keras.layers.Conv2D(COLOUR_FILTERS, 1, activation="relu"), name="colour")(x)
    colour = keras.layers.TimeDistributed(keras.layers.MaxPooling2D(2 ** len(m.conv_filters)),
                                          name="colour_pool")(colour)
    grid = keras.layers.Concatenate(name="grid")([shape, colour])
    where = keras.layers.TimeDistributed(keras.layers.Conv2D(WHERE_FILTERS, 1, activation="relu"), name="where")(grid)
    where = keras.layers.TimeDistributed(keras.layers.Flatten(), name="flatten")(where)
    what = keras.layers.TimeDistributed(keras.layers.GlobalMaxPooling2D(), name="what")(grid)
    return keras.layers.Concatenate(name="where_what")([where, what])


def frame_encoder(recipe: Recipe, clip):
    """Frame vectors [B, F, frame_dim] from pixels (conv or MobileNet) or from features;
    with the `slots` encoder, slot vectors [B, F, K, frame_dim]."""
    m = recipe.model
    if m.encoder == "features":
        x = clip
    elif m.encoder == "mobilenet_v3_small":
        net = keras.applications.MobileNetV3Small(input_shape=(m.size, m.size, 3), include_top=False,
                                                  weights=str(mobilenet_weights()), pooling="avg",
                                                  include_preprocessing=True)
        net.trainable = False
        x = keras.layers.TimeDistributed(net, name="mobilenet")(clip)
    elif m.encoder == "slots":
        x = ColourSlots(m.conv_filters, name="slots")(clip)
    else:
        x = conv_encoder(m, clip)
    x = keras.layers.Dense(m.frame_dim, activation="relu", name="frame")(x)
    return keras.layers.Dropout(m.dropout, name="frame_dropout")(x) if m.dropout else x


def attends(recipe: Recipe) -> bool:
    """Whether the decoder attends over a memory: the attention head's, or the slots of the `slots` encoder."""
    return recipe.model.head == "attention" or recipe.model.encoder == "slots"


def memory_length(recipe: Recipe) -> int:
    """Positions of the decoder's memory: frames, slots, or slots x frames (attention over slots)."""
    m = recipe.model
    if m.encoder != "slots":
        return m.frames
    return SLOTS * m.frames if m.head == "attention" else SLOTS


def slot_head(m, slots):
    """The heads over object slots [B, F, K, frame_dim]: each slot summarised over time by the head
    (meanpool: its mean; s2vt: a recurrent encoder's last state; attention: every state of it), one
    weight set for all slots; the decoder starts from the slots' mean and attends over them."""
    by_slot = keras.layers.Permute((2, 1, 3), name="by_slot")(slots)  # [B, K, F, frame_dim]
    if m.head == "meanpool":
        memory = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling1D(), name="mean_pool")(by_slot)
        memory = keras.layers.Dense(m.units, activation="tanh", name="slot_memory")(memory)
    else:
        encoder = recurrent_layer(m.cell, m.units, return_sequences=m.head == "attention", name=f"encoder_{m.cell}")
        memory = keras.layers.TimeDistributed(encoder, name="slot_encoder")(by_slot)
        if m.head == "attention":
            memory = keras.layers.Reshape((SLOTS * m.frames, m.units), name="slot_frames")(memory)
    memory = SlotEmbedding(name="slot_embedding")(memory)
    pooled = keras.layers.GlobalAveragePooling1D(name="slot_pool")(memory)
    state = [keras.layers.Dense(m.units, activation="tanh", name=f"init_{part}")(pooled)
             for part in ("h", "c")[:2 if m.cell == "lstm" else 1]]
    return state, memory


def build(recipe: Recipe, vocab_size: int) -> keras.Model:
    """The training model: [clip, words [B, L] int32] -> next-word logits [B, L, vocab_size];
    with `model.concepts`, a dict of those (`words`) and concept logits [B, vocab_size] (`concepts`)."""
    m = recipe.model
    shape, name = input_spec(recipe)
    clip = keras.Input(shape, name=name)
    words = keras.Input((None,), dtype="int32", name="words")
    frames = frame_encoder(recipe, clip)
    if m.head not in ("meanpool", "s2vt", "attention"):
        raise ValueError(f"model.head={m.head!r}: choose meanpool, s2vt or attention")
    if m.encoder == "slots":
        state, memory = slot_head(m, frames)
        frames = keras.layers.Reshape((m.frames * SLOTS, m.frame_dim), name="slot_tokens")(frames)
    elif m.head == "meanpool":
        pooled = keras.layers.GlobalAveragePooling1D(name="mean_pool")(frames)
        state = [keras.layers.Dense(m.units, activation="tanh", name=f"init_{part}")(pooled)
                 for part in ("h", "c")[:2 if m.cell == "lstm" else 1]]
        memory = frames
    else:
        memory, *state = recurrent_layer(m.cell, m.units, return_sequences=True, return_state=True,
                                         name=f"encoder_{m.cell}")(frames)
    decoder = CaptionDecoder(vocab_size, m.units, m.embedding, m.cell, attention=attends(recipe),
                             dropout=m.dropout, word_dropout=m.word_dropout, name="decoder")
    logits = decoder(words, state, memory)
    if not m.concepts:
        return keras.Model([clip, words], logits, name=recipe.name)
    pooled = keras.layers.GlobalMaxPooling1D(name="concept_pool")(frames)
    concepts = keras.layers.Dense(vocab_size, name="concepts")(pooled)
    return keras.Model([clip, words], {"words": logits, "concepts": concepts}, name=recipe.name)


def word_logits(model: keras.Model, inputs, training: bool = False):
    """The next-word logits of the training model, with or without a concept head."""
    out = model(inputs, training=training)
    return out["words"] if isinstance(out, dict) else out


def decoder_layer(model: keras.Model) -> CaptionDecoder:
    """The model's `CaptionDecoder`, found by type."""
    return next(layer for layer in model.layers if isinstance(layer, CaptionDecoder))


def encoder_model(model: keras.Model) -> keras.Model:
    """clip -> [state pieces (h, and c for LSTM) ..., memory]: what the decoder receives, from the model's graph."""
    return keras.Model(model.inputs[0], decoder_layer(model).input[1:], name="encoder")


def state_size(recipe: Recipe) -> int:
    """Width of the decoder's packed state: h, and c for an LSTM."""
    return recipe.model.units * (2 if recipe.model.cell == "lstm" else 1)
