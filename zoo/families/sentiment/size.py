"""Parameter count of a sentiment recipe, computed without building it (for `zoo list`).

Example:
    >>> from zoo.families.sentiment.recipes import recipes
    >>> count_params(recipes()[0], 20004, 2)
    1346562
"""

from __future__ import annotations

from zoo.core.recipe import Recipe
from zoo.nn.size import recurrent_params


def count_params(recipe: Recipe, vocab_size: int, labels: int) -> int:
    """What `build(recipe, vocab_size, labels).count_params()` gives, without building."""
    m = recipe.model
    total, width = vocab_size * m.embedding, m.embedding
    for _ in range(m.layers):
        total += recurrent_params(m.cell, width, m.units, bidirectional=m.bidirectional)
        width = m.units * (2 if m.bidirectional else 1)
    return total + width * labels + labels
