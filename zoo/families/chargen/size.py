"""Parameter count of a text recipe, computed without building it (for `zoo list`).

Example:
    >>> from zoo.families.chargen.recipes import recipes
    >>> count_params(recipes()[0], 97)
    278433
"""

from __future__ import annotations

from zoo.core.recipe import Recipe
from zoo.nn.size import recurrent_params


def count_params(recipe: Recipe, vocab_size: int) -> int:
    """What `build(recipe, vocab_size).count_params()` gives, without building."""
    m = recipe.model
    total, width = vocab_size * m.embedding, m.embedding
    for _ in range(m.layers):
        total += recurrent_params(m.cell, width, m.units)
        width = m.units
    return total + width * vocab_size + vocab_size
