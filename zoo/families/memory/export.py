"""Memory export: a sequence in, the sum out; SavedModel (any length) or LiteRT (the recipe's length).

Every export checks itself against the Keras model on the fixed validation set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core import litert
from zoo.core.export import keras_to_tflite
from zoo.core.load import output_function
from zoo.core.recipe import Recipe
from zoo.families.memory.evaluate import predict, score
from zoo.families.memory.recipes import NAME
from zoo.families.memory.size import FEATURES

CHECK_SEQUENCES = 200


def export_meta(recipe: Recipe) -> dict:
    d = recipe.data
    return {"family": NAME, "recipe": recipe.name, "task": d.source, "length": d.length,
            "tolerance": d.tolerance, "cell": recipe.model.cell,
            "input": f"float32 [batch, {d.length}, {FEATURES}]: per step (value, marker); two steps marked 1, "
                     "one in each half (a SavedModel reads any length)",
            "output": "float32 [batch, 1]: the sum of the two marked values"}


def signature(recipe: Recipe, batch: int | None, length: int | None):
    return [tf.TensorSpec((batch, length, FEATURES), tf.float32, name="sequence")]


def export_savedmodel(model, recipe: Recipe, path: Path) -> None:
    model.export(str(path), format="tf_saved_model", input_signature=signature(recipe, None, None), verbose=False)


def export_tflite(model, recipe: Recipe, quantize: str) -> bytes:
    return keras_to_tflite(model, signature(recipe, 1, recipe.data.length), quantize)


def check_export(model, recipe: Recipe, path: Path, validation: tuple[np.ndarray, np.ndarray]) -> dict:
    """Accuracy of the export and of the Keras model on the same validation sequences, and their gap."""
    x, y = (a[:CHECK_SEQUENCES] for a in validation)
    exported = output_function("savedmodel" if Path(path).is_dir() else "tflite", path)
    ref, got = predict(model, x), exported(x)
    tolerance = recipe.data.tolerance
    return {"sequences": int(len(y)), "accuracy": score(y, got, tolerance)["accuracy"],
            "keras_accuracy": score(y, ref, tolerance)["accuracy"],
            "max_logit_diff": float(np.max(np.abs(got - ref))),
            "latency_ms": litert.latency_ms(exported, x[:1])}
