"""Keyword export: raw audio in, logits out; SavedModel, or LiteRT float, dynamic-range or int8.

Every export checks itself on held-out clips against the Keras model
(accuracy of both, largest logit difference, agreement, latency).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.audio.features import AudioFeatures
from zoo.core import litert
from zoo.core.export import keras_to_tflite
from zoo.core.load import output_function
from zoo.core.recipe import Recipe
from zoo.families.kws.data import export_data
from zoo.families.kws.model import num_samples
from zoo.families.kws.recipes import NAME


def input_signature(recipe: Recipe, batch: int | None):
    return [tf.TensorSpec((batch, num_samples(recipe)), tf.float32, name="audio")]


def export_meta(recipe: Recipe, labels) -> dict:
    """What an exported model needs beside it: labels and the input format."""
    d = recipe.data
    return {"family": NAME, "recipe": recipe.name, "labels": list(labels),
            "sample_rate": d.sample_rate, "clip_seconds": d.clip_seconds,
            "input": f"float32 [batch, {num_samples(recipe)}]: mono audio in [-1, 1] at {d.sample_rate} Hz",
            "output": "logits over labels"}


def export_savedmodel(model, recipe: Recipe, path: Path) -> None:
    model.export(str(path), format="tf_saved_model", input_signature=input_signature(recipe, batch=None),
                 verbose=False)


def export_tflite(model, recipe: Recipe, quantize: str, clips) -> bytes:
    """int8 keeps the audio front end float: log-power features need more than 8 bits."""
    front = [layer for layer in model.layers if isinstance(layer, AudioFeatures)]
    return keras_to_tflite(model, input_signature(recipe, batch=1), quantize, calibration=clips[2],
                           float_layers=front)


def prepare_export(recipe: Recipe, labels, data_root: Path, quantize: str):
    """Held-out clips for the check, and training clips to calibrate int8 (one data load)."""
    return export_data(recipe, labels, data_root, calibration=quantize == "int8")


def check_export(model, path: Path, clips) -> dict:
    """Accuracy of the export and of the Keras model on the same held-out clips, and their gap."""
    x, y, _ = clips
    exported = output_function("savedmodel" if Path(path).is_dir() else "tflite", path)
    ref = np.concatenate([np.asarray(model.predict_on_batch(x[i:i + 256])) for i in range(0, len(x), 256)])
    got = exported(x)
    return {
        "clips": int(len(y)),
        "accuracy": round(float(np.mean(got.argmax(-1) == y)), 4),
        "keras_accuracy": round(float(np.mean(ref.argmax(-1) == y)), 4),
        "max_logit_diff": float(np.max(np.abs(got - ref))),
        "agreement": round(float(np.mean(got.argmax(-1) == ref.argmax(-1))), 4),
        "latency_ms": litert.latency_ms(exported, x[:1]),
        "keras_predict_latency_ms": litert.latency_ms(lambda b: model.predict(b, verbose=0), x[:1], 20),
    }
