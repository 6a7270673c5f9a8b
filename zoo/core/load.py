"""One loader for a run directory, a SavedModel or a LiteRT file.

Every exported model carries a JSON sidecar (`zoo.json` inside a SavedModel,
`NAME.json` beside `NAME.tflite`) naming its family and holding what inference
needs (labels or vocabulary, input format), so an export needs nothing from its
run directory. The family table is passed in: the core never imports a family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core import litert, runs
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.recipe import Recipe


@dataclasses.dataclass
class Loaded:
    """A model ready for inference, before a family wraps it in its verbs.

    Attributes:
        kind: `keras` (a run directory), `savedmodel` or `tflite`.
        path: what was loaded.
        family: the model's family.
        meta: the export sidecar (for a run, what an export's would be).
        model: the Keras model (run directories only).
        recipe: the resolved recipe (run directories only).
        run_meta: the run's labels or vocabulary object (run directories only).
    """

    kind: str
    path: Path
    family: Family
    meta: dict
    model: Any = None
    recipe: Recipe | None = None
    run_meta: Any = None



def serving_signature(path: Path):
    """The `serving_default` function of a SavedModel directory."""
    import tensorflow as tf

    return tf.saved_model.load(str(path)).signatures["serving_default"]


def output_function(kind: str, path: Path, model=None):
    """A function inputs [B, ...] -> the model's one output [B, ...] as NumPy, for a Keras model
    (`kind` `keras`, `model` given), a SavedModel's `serving_default` or a LiteRT file (run one example
    at a time: its batch is 1)."""
    import tensorflow as tf

    if kind == "keras":
        return lambda batch: np.asarray(model.predict_on_batch(batch))
    if kind == "savedmodel":
        fn = serving_signature(path)
        (name, spec), = fn.structured_input_signature[1].items()
        return lambda batch: next(iter(fn(**{name: tf.constant(batch, spec.dtype)}).values())).numpy()
    return litert.single_runner(path)


def check_labels(source, scores: int, labels: list[str]) -> None:
    """A one-line error when a model gives another number of scores than its sidecar names labels."""
    if scores != len(labels):
        raise ZooError(f"{source}: the model gives {scores} scores but its sidecar names {len(labels)} labels "
                       f"(an edited or mismatched sidecar)")


def sidecar(model_path: Path) -> Path:
    """Where an export's JSON sidecar lives."""
    model_path = Path(model_path)
    return model_path / "zoo.json" if model_path.suffix != ".tflite" else model_path.with_suffix(".json")


def family_of(name: str, families: Mapping[str, Family], source: Path) -> Family:
    try:
        return families[name]
    except KeyError:
        raise ZooError(f"{source}: unknown model family {name!r}; known: {', '.join(families)}") from None


def load_run(run_dir: Path, families: Mapping[str, Family]) -> tuple[Recipe, Family, Any]:
    """(recipe, family, best Keras model) of a run directory, loaded in safe mode."""
    run_dir = runs.require_run(run_dir)
    saved = runs.read_json(run_dir / runs.RECIPE)
    family = family_of(saved.get("family"), families, run_dir)
    recipe = family.recipe_from_dict(saved)
    return recipe, family, keras_model(run_dir / runs.MODEL, family.custom_objects())


def keras_model(path: Path, custom_objects: dict):
    """A `.keras` file loaded in Keras safe mode; a file safe mode refuses (a `Lambda` layer holding Python
    code) or that is not a Keras model is a one-line error naming it."""
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, custom_objects=custom_objects)
    except ValueError as e:  # Keras says why in its first sentence
        raise ZooError(f"{path}: Keras safe mode cannot load it ({str(e).split('. ')[0].strip()})") from None
    except (OSError, KeyError, TypeError) as e:
        raise ZooError(f"{path}: not a readable Keras model file ({e})") from None


def load(path: Path, families: Mapping[str, Family]) -> Loaded:
    """Loads MODEL: a run directory, a SavedModel directory or a `.tflite` file with its sidecar."""
    path = Path(path)
    if not path.exists():
        raise ZooError(f"{path}: no such model file or directory")
    if path.is_dir() and (path / runs.RECIPE).is_file():
        recipe, family, model = load_run(path, families)
        run_meta = family.load_meta(path)
        return Loaded("keras", path, family, family.export_meta(recipe, run_meta), model, recipe, run_meta)
    is_savedmodel = path.is_dir() and (path / "saved_model.pb").is_file()
    if not is_savedmodel and path.suffix != ".tflite":
        raise ZooError(f"{path}: not a run directory, SavedModel or .tflite file")
    meta_path = sidecar(path)
    if not meta_path.is_file():
        raise ZooError(f"{path}: missing its sidecar {meta_path.name} (labels or vocabulary, input format)")
    meta = runs.read_json(meta_path)
    family = family_of(meta.get("family"), families, path)
    return Loaded("savedmodel" if is_savedmodel else "tflite", path, family, meta)
