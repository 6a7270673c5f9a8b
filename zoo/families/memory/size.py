"""Parameter count of a memory recipe, computed without building it (for `zoo list`).

Example:
    >>> from zoo.families.memory.recipes import recipes
    >>> count_params(recipes()[0])
    4353
"""

from __future__ import annotations

from zoo.core.recipe import Recipe
from zoo.nn.size import recurrent_params

FEATURES = 2  # per step: the value, and its marker


def count_params(recipe: Recipe) -> int:
    """What `build(recipe).count_params()` gives, without building."""
    m = recipe.model
    total, width = 0, FEATURES
    for _ in range(m.layers):
        total += recurrent_params(m.cell, width, m.units)
        width = m.units
    return total + width + 1
