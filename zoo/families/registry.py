"""The families, listed explicitly (no registration by import side effect).

Adding a family: one package under `zoo/families/` and one line here.

Example:
    >>> "kws_gru_s_fsdd" in registry().names()
    True
    >>> sorted(FAMILIES)
    ['caption', 'chargen', 'kws', 'memory', 'sentiment']
"""

from __future__ import annotations

import functools

from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.recipe import Recipe, Registry, apply_overrides
from zoo.families.caption.family import VideoCaptioning
from zoo.families.chargen.family import TextGeneration
from zoo.families.kws.family import KeywordSpotting
from zoo.families.memory.family import LongMemory
from zoo.families.sentiment.family import Sentiment

FAMILIES: dict[str, Family] = {family.name: family for family in (
    KeywordSpotting(), TextGeneration(), VideoCaptioning(), LongMemory(), Sentiment())}


def get(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ZooError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None


@functools.cache
def registry() -> Registry:
    """Every family's recipes in one registry (built on first use)."""
    return Registry(r for family in FAMILIES.values() for r in family.recipes())


def resolve(name: str, data: str | None = None, overrides=()) -> Recipe:
    """The recipe `name` with `--set` overrides and a `--data KIND[:PATH]` source applied."""
    recipe = apply_overrides(registry().get(name), overrides)
    return get(recipe.family).with_data(recipe, data)
