"""Sentiment export: padded word ids in, logits out; the vocabulary and labels in the sidecar.

Every export checks itself against the Keras model on validation texts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core import litert
from zoo.core.export import keras_to_tflite
from zoo.core.load import output_function
from zoo.core.recipe import Recipe
from zoo.families.sentiment.data import encode_split
from zoo.families.sentiment.evaluate import predict_logits
from zoo.families.sentiment.recipes import NAME
from zoo.families.sentiment.sources import load

CHECK_TEXTS = 200


def export_meta(recipe: Recipe, meta: dict) -> dict:
    n = recipe.data.max_tokens
    return {"family": NAME, "recipe": recipe.name, "labels": meta["labels"],
            "vocabulary": meta["vocabulary"].to_json(), "max_tokens": n, "cell": recipe.model.cell,
            "tokenizer": "zoo.text.words.tokenize: Unicode case folding, split on white space and around "
                         "punctuation (tensorflow-text); ids <bos> words <eos>, <unk> for unknown words",
            "input": f"int32 [batch, {n}]: vocabulary ids, cut to {n} and padded with 0 (masked)",
            "output": "logits over labels"}


def signature(recipe: Recipe, batch: int | None):
    return [tf.TensorSpec((batch, recipe.data.max_tokens), tf.int32, name="ids")]


def export_savedmodel(model, recipe: Recipe, path: Path) -> None:
    model.export(str(path), format="tf_saved_model", input_signature=signature(recipe, None), verbose=False)


def export_tflite(model, recipe: Recipe, quantize: str) -> bytes:
    return keras_to_tflite(model, signature(recipe, 1), quantize)


def prepare_export(recipe: Recipe, meta: dict, data_root: Path):
    """Validation texts for the check, encoded as the model reads them."""
    rows = load(recipe, data_root).splits["validation"][:CHECK_TEXTS]
    return encode_split(rows, meta["vocabulary"], meta["labels"], recipe.data.max_tokens, recipe.data.path)


def check_export(model, path: Path, validation) -> dict:
    """Accuracy of the export and of the Keras model on the same validation texts, and their gap."""
    x, y = validation
    exported = output_function("savedmodel" if Path(path).is_dir() else "tflite", path)
    ref, got = predict_logits(model, x), exported(x)
    return {"texts": int(len(y)), "accuracy": round(float(np.mean(got.argmax(-1) == y)), 4),
            "keras_accuracy": round(float(np.mean(ref.argmax(-1) == y)), 4),
            "max_logit_diff": float(np.max(np.abs(got - ref))),
            "agreement": round(float(np.mean(got.argmax(-1) == ref.argmax(-1))), 4),
            "latency_ms": litert.latency_ms(exported, x[:1])}
