"""Parameter arithmetic of a caption recipe, without building it (so `zoo list` needs no TensorFlow).

Example:
    >>> from zoo.families.caption.recipes import recipes
    >>> count_params(recipes()[0], vocab_size=60)
    1085558
"""

from __future__ import annotations

from zoo.core.recipe import Recipe
from zoo.nn.size import recurrent_params

#: Widths of the conv encoder's colour stream and of its reduced grid (as `model.py` builds them).
COLOUR_FILTERS, WHERE_FILTERS = 8, 16
#: The `slots` encoder: scalars each slot token carries beside its shape features (mean colour r, g, b;
#: area, centre y and x; their change since the frame before), and its slots (colour prototypes:
#: `slots.BASIC_COLOURS`).
SLOT_FACTS, SLOTS = 9, 9
#: MobileNetV3-Small without its top, average-pooled (Keras Applications): weights and output width.
MOBILENET_PARAMS, MOBILENET_DIM = 939_120, 576


def slot_params(filters: tuple[int, ...]) -> tuple[int, int]:
    """(weights, token width) of a `ColourSlots` layer."""
    params = 3 * SLOTS + 2  # prototypes, sharpness, background threshold
    channels = 1
    for f in filters:
        params += 9 * channels * f + f
        channels = f
    return params, channels + SLOT_FACTS


def frame_params(recipe: Recipe) -> int:
    """Weights of the frame encoder up to and including the `frame` Dense layer."""
    m = recipe.model
    if m.encoder == "features":
        flat, params = m.feature_dim, 0
    elif m.encoder == "mobilenet_v3_small":
        flat, params = MOBILENET_DIM, MOBILENET_PARAMS
    elif m.encoder == "slots":
        params, flat = slot_params(m.conv_filters)
    else:
        channels, side, params = 1, m.size, 0  # the shape stream reads luma
        for filters in m.conv_filters:
            params += 9 * channels * filters + 4 * filters  # kernel without bias; batch norm's 4 per channel
            channels, side = filters, side // 2
        grid = channels + COLOUR_FILTERS
        params += 3 * COLOUR_FILTERS + COLOUR_FILTERS + grid * WHERE_FILTERS + WHERE_FILTERS
        flat = side * side * WHERE_FILTERS + grid  # where (the reduced grid, flattened) and what (its maximum)
    return params + flat * m.frame_dim + m.frame_dim


def count_params(recipe: Recipe, vocab_size: int) -> int:
    """Every weight of the model `zoo.families.caption.model.build` makes for `recipe`."""
    m = recipe.model
    parts = 2 if m.cell == "lstm" else 1
    if m.encoder == "slots":  # per-slot memory, then an initial state from its mean
        slot_memory = m.frame_dim * m.units + m.units if m.head == "meanpool" else \
            recurrent_params(m.cell, m.frame_dim, m.units)
        head = slot_memory + SLOTS * m.units + parts * (m.units * m.units + m.units)  # + slot embedding
    elif m.head == "meanpool":
        head = parts * (m.frame_dim * m.units + m.units)
    else:
        head = recurrent_params(m.cell, m.frame_dim, m.units)
    decoder = (vocab_size * m.embedding + recurrent_params(m.cell, m.embedding, m.units)
               + m.units * vocab_size + vocab_size)
    if m.head == "attention" or m.encoder == "slots":
        decoder += m.units * m.units + 1 + 2 * m.units * m.units + m.units  # bilinear score and scale, tanh combine
    concepts = m.frame_dim * vocab_size + vocab_size if m.concepts else 0
    return frame_params(recipe) + head + decoder + concepts
