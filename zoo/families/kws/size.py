"""Parameter count of a keyword recipe, computed without building it (for `zoo list`).

Example:
    >>> from zoo.families.kws.recipes import recipes
    >>> count_params(recipes()[0], 10)
    116619
"""

from __future__ import annotations

from zoo.core.recipe import Recipe
from zoo.nn.size import recurrent_params


def count_params(recipe: Recipe, num_labels: int) -> int:
    """What `build(recipe, labels).count_params()` gives, without building (the front end has no weights)."""
    m = recipe.model
    width = m.num_mfcc or m.num_mel_bins
    total = 4 * width if m.causal else 0  # batch normalisation: scale, offset, moving mean and variance
    if m.conv_filters:
        total += 5 * width * m.conv_filters + m.conv_filters + 5 * m.conv_filters * m.conv_filters + m.conv_filters
        width = m.conv_filters
    for _ in range(m.layers):
        total += recurrent_params(m.cell, width, m.units, m.bidirectional)
        width = m.units * (2 if m.bidirectional else 1)
    if m.pooling == "attention":
        total += width + 1
    return m.members * (total + width * num_labels + num_labels)


def why_not_causal(m) -> str | None:
    """Why a model section cannot be causal (None if it can)."""
    if m.bidirectional:
        return "it reads each clip both ways (bidirectional), so it needs the whole clip before it can score"
    if m.pooling != "last":
        return f"its pooling ({m.pooling}) looks at the whole clip; a causal model scores from its last state"
    if m.normalize != "none":
        return f"its front end normalises each clip by the clip's own statistics (normalize={m.normalize})"
    return None
