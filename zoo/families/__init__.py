"""The families, listed explicitly (no registration by import side effect).

Each family module provides (the protocol the generic code calls):

- `NAME`, `MODEL_CONFIG`, `DATA_CONFIG`, `recipes()`;
- `build(recipe, meta)`, `default_meta(recipe)`, `custom_objects()`, where meta is
  what the data set decides (labels, a vocabulary): `save_meta` / `load_meta`;
- training: `parse_data_spec(spec, recipe)`, `datasets(recipe, data_root)`,
  `compile_args(recipe)`, `MONITOR` / `MONITOR_MODE`, `final_metrics(model, splits, run_dir, recipe)`;
- `evaluate_run(recipe, model, meta, run_dir, data_root, split)` for `zoo eval`;
- export: `prepare_export`, `export_savedmodel`, `export_tflite`, `check_export`,
  `export_meta` (the sidecar an exported model carries).

Example:
    >>> "kws_gru_s_fsdd" in registry().names()
    True
"""

from __future__ import annotations

import functools

from zoo.errors import ZooError
from zoo.families import chargen, kws
from zoo.recipes import Recipe, Registry, recipe_from_dict

FAMILIES = {kws.NAME: kws, chargen.NAME: chargen}


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
