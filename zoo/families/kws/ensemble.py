"""Keyword models joined into one: a shared front end, the members side by side, their mean probabilities.

`join` builds the recipe's model with `members` set (`model.build`) and copies
each member run's weights into its copy (`member{i}`, layers prefixed `m{i}_`).
Members must share the whole model section and the input (sample rate and clip
length), since they read one front end's frames; their training may differ.

Example:
    >>> import numpy as np
    >>> from zoo.core.recipe import apply_overrides
    >>> from zoo.families.registry import registry
    >>> recipe = apply_overrides(registry().get("kws_ugru_s_fsdd"), ["model.units=4", "model.layers=1"])
    >>> a, b = build(recipe, list("xy")), build(recipe, list("xy"))
    >>> joined, model = join([recipe, recipe], [a, b], ["a", "b"])
    >>> clip = np.random.default_rng(0).normal(0, 0.1, (1, 8000)).astype("float32")
    >>> probs = [np.exp(m(clip)) / np.exp(m(clip)).sum() for m in (a, b)]
    >>> bool(np.allclose(np.exp(model(clip)), np.mean(probs, axis=0), atol=1e-5)), joined.model.members
    (True, 2)
"""

from __future__ import annotations

import dataclasses

from zoo.core.errors import ZooError
from zoo.core.recipe import Recipe
from zoo.families.kws.model import build


def join(recipes: list[Recipe], models: list, labels, names: list[str] | None = None) -> tuple[Recipe, object]:
    """(the ensemble's recipe, its Keras model with the members' weights) for trained `models`.

    Args:
        recipes: each member's recipe; the first one's data and training sections are the ensemble's.
        models: the members' Keras models (built by `model.build` with one member each).
        labels: their class names (the same for all).
        names: how errors name the members (default: member 1, member 2, ...).
    """
    names = names or [f"member {i}" for i in range(1, len(models) + 1)]
    first = recipes[0]
    for name, recipe in zip(names, recipes):
        if recipe.model.members != 1:
            raise ZooError(f"{name}: already an ensemble of {recipe.model.members}; join its members instead")
        if recipe.model != first.model:
            changed = [f.name for f in dataclasses.fields(first.model)
                       if getattr(recipe.model, f.name) != getattr(first.model, f.name)]
            raise ZooError(f"{name}: its model differs from {names[0]}'s ({', '.join(f'model.{c}' for c in changed)})")
        for field in ("sample_rate", "clip_seconds"):
            if getattr(recipe.data, field) != getattr(first.data, field):
                raise ZooError(f"{name}: its data.{field} differs from {names[0]}'s")
    recipe = dataclasses.replace(first, model=dataclasses.replace(first.model, members=len(models)))
    ensemble = build(recipe, labels)
    for i, member in enumerate(models, 1):
        target = ensemble.get_layer(f"member{i}")
        for layer in member.layers:
            if layer.weights:
                target.get_layer(f"m{i}_{layer.name}").set_weights(layer.get_weights())
    return recipe, ensemble
