"""The families, listed explicitly (no registration by import side effect).

Each family module provides: `NAME`, `recipes()`, `build(recipe, meta)`,
`parse_data_spec(spec, recipe)`, `datasets(recipe, data_root)`, `compile_args(recipe)`,
`MONITOR`/`MONITOR_MODE`, `save_meta`/`load_meta`, and the evaluation, export and
inference helpers the generic code calls.

Example:
    >>> "kws_gru_s_fsdd" in registry().names()
    True
"""

from __future__ import annotations

import functools

from zoo.errors import ZooError
from zoo.families import kws
from zoo.recipes import Recipe, Registry, recipe_from_dict

FAMILIES = {kws.NAME: kws}


def get(name: str):
    try:
        return FAMILIES[name]
    except KeyError:
        raise ZooError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None


@functools.cache
def registry() -> Registry:
    """Every family's recipes in one registry (built on first use)."""
    return Registry(r for family in FAMILIES.values() for r in family.recipes())


def recipe_from_json(d: dict) -> Recipe:
    family = get(d["family"])
    return recipe_from_dict(d, family.MODEL_CONFIG, family.DATA_CONFIG)
