"""Text export: a one-step generator, (ids int32 [1], state float32 [1, S]) -> {logits, state}.

It goes through `keras.export.ExportArchive` and converts builtins-only (no
loop: one step per call). Every export checks itself against the Keras model
on validation text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from keras.export import ExportArchive

from zoo.core import litert, runs
from zoo.core.load import sidecar
from zoo.core.recipe import Recipe
from zoo.families.chargen.data import split_text
from zoo.families.chargen.generate import Generator
from zoo.families.chargen.model import state_size, step_function
from zoo.families.chargen.recipes import NAME
from zoo.text.corpus import Vocabulary


def export_meta(recipe: Recipe, vocab: Vocabulary) -> dict:
    return {"family": NAME, "recipe": recipe.name, "vocabulary": vocab.to_json(),
            "state_size": state_size(recipe), "cell": recipe.model.cell,
            "input": f"ids int32 [1] (vocabulary ids, 0 = unknown); state float32 [1, {state_size(recipe)}] "
                     "(zeros to start)",
            "output": "logits float32 [1, vocabulary] for the next character; state for the next step"}


def write_step_savedmodel(model, recipe: Recipe, path: Path, batch: int | None = 1) -> None:
    """A SavedModel whose `serving_default` is one step: (ids, state) -> {logits, state}."""
    step = step_function(model)
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve", lambda ids, state: dict(zip(("logits", "state"), step(ids, state))),
        input_signature=[tf.TensorSpec((batch,), tf.int32, name="ids"),
                         tf.TensorSpec((batch, state_size(recipe)), tf.float32, name="state")])
    archive.write_out(str(path), verbose=False)


def export_savedmodel(model, recipe: Recipe, path: Path) -> None:
    write_step_savedmodel(model, recipe, path, batch=None)


def export_tflite(model, recipe: Recipe, quantize: str) -> bytes:
    """The one-step generator as builtins-only LiteRT (float or dynamic-range)."""
    return litert.convert_written(lambda folder: write_step_savedmodel(model, recipe, folder, batch=1), quantize)


def check_export(model, recipe: Recipe, vocab: Vocabulary, path: Path, data_root: Path,
                 characters: int = 400) -> dict:
    """Steps the export through validation text and compares it with the Keras model.

    Records the largest logit difference against the full-window Keras model,
    both losses on those characters, generation speed of both, and whether the
    same seed and temperature give the same text.
    """
    _, val_text, _ = split_text(recipe, data_root)
    ids = vocab.encode(val_text)[:characters + 1]
    meta = runs.read_json(sidecar(path))
    exported = Generator.from_litert(path, meta) if Path(path).suffix == ".tflite" else \
        Generator.from_savedmodel(path, meta)
    keras_gen = Generator.from_keras(model, vocab)
    ref = np.asarray(model.predict(ids[None, :-1], verbose=0))[0]
    state = np.zeros((1, state_size(recipe)), np.float32)
    got = []
    for i in ids[:-1]:
        logits, state = exported.step(np.array([i], np.int32), state)
        got.append(np.asarray(logits)[0])
    got = np.stack(got)

    def nats(logits):
        z = logits - logits.max(-1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(-1)) - z[np.arange(len(z)), ids[1:]]))

    text_keras = "".join(keras_gen.stream("\n", 200, temperature=1.0, seed=0))
    text_export = "".join(exported.stream("\n", 200, temperature=1.0, seed=0))
    return {"characters": int(len(got)), "max_logit_diff": float(np.max(np.abs(got - ref))),
            "loss_nats": round(nats(got), 4), "keras_loss_nats": round(nats(ref), 4),
            "same_text_as_keras": text_keras == text_export,
            "generate_chars_per_s": exported.chars_per_s(300), "keras_generate_chars_per_s": keras_gen.chars_per_s(300)}
