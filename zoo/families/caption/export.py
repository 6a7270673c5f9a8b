"""Caption export: one SavedModel or LiteRT file with two signatures, `encode` and `decode_step`.

    encode:       clip float32 [1, F, S, S, 3] (pixels 0-255) or [1, F, D] (features)
                  -> state float32 [1, S] (+ memory float32 [1, F, U] for attention)
    decode_step:  word int32 [1], state [1, S] (+ memory) -> logits float32 [1, V], state [1, S]

Start from `<bos>` (id 1) and the encoder's state; stop at `<eos>` (id 2).
Builtin ops only. The vocabulary travels in the sidecar. Every export checks
itself: it captions held-out clips with the export alone and with Keras and
records agreement, logit differences, sizes and per-caption latency.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from keras.export import ExportArchive

from zoo.core import litert, runs
from zoo.core.load import sidecar
from zoo.core.recipe import Recipe
from zoo.families.caption.captioner import Captioner
from zoo.families.caption.model import attends, decoder_layer, encoder_model, input_spec, memory_length, state_size
from zoo.families.caption.recipes import NAME
from zoo.text.words import BOS, WordVocabulary


def export_meta(recipe: Recipe, vocab: WordVocabulary) -> dict:
    m, d = recipe.model, recipe.data
    width = state_size(recipe)
    shape, kind = input_spec(recipe)
    attention = attends(recipe)
    memory = f"; memory float32 [1, {memory_length(recipe)}, {m.units}]" if attention else ""
    return {"family": NAME, "recipe": recipe.name, "vocabulary": vocab.to_json(), "input": kind,
            "frames": m.frames, "size": m.size, "feature_dim": m.feature_dim, "head": m.head, "cell": m.cell,
            "attention": attention, "state_size": width, "max_words": d.max_words,
            "signatures": {
                "encode": f"clip float32 [1, {', '.join(map(str, shape))}]"
                          f"{' (pixels 0-255)' if kind == 'video' else ''} -> state float32 [1, {width}]{memory}",
                "decode_step": f"word int32 [1] (<bos> = {BOS} first), state{memory and ', memory'} "
                               f"-> logits float32 [1, {len(vocab)}], state"}}


def write_savedmodel(model, recipe: Recipe, path: Path, batch: int | None) -> None:
    """The two signatures through `keras.export.ExportArchive`, with a fixed or free batch."""
    m = recipe.model
    shape, _ = input_spec(recipe)
    encoder, decoder = encoder_model(model), decoder_layer(model)
    attention = attends(recipe)
    archive = ExportArchive()
    archive.track(model)

    def encode(clip):
        *state, memory = encoder(clip, training=False)
        out = {"state": tf.concat(state, axis=-1) if len(state) > 1 else state[0]}
        return {**out, "memory": memory} if attention else out

    state_spec = tf.TensorSpec((batch, decoder.state_size), tf.float32, name="state")
    word_spec = tf.TensorSpec((batch,), tf.int32, name="word")
    archive.add_endpoint("encode", encode, input_signature=[tf.TensorSpec((batch, *shape), tf.float32, name="clip")])
    if attention:
        archive.add_endpoint(
            "decode_step",
            lambda word, state, memory: dict(zip(("logits", "state"), decoder.step(word, state, memory))),
            input_signature=[word_spec, state_spec, tf.TensorSpec((batch, memory_length(recipe), m.units), tf.float32,
                                                                  name="memory")])
    else:
        archive.add_endpoint(
            "decode_step", lambda word, state: dict(zip(("logits", "state"), decoder.step(word, state, None))),
            input_signature=[word_spec, state_spec])
    archive.write_out(str(path), verbose=False)


def export_savedmodel(model, recipe: Recipe, path: Path) -> None:
    write_savedmodel(model, recipe, path, batch=None)


def export_tflite(model, recipe: Recipe, quantize: str) -> bytes:
    return litert.convert_written(lambda folder: write_savedmodel(model, recipe, folder, batch=1), quantize)


def check_export(model, recipe: Recipe, vocab: WordVocabulary, path: Path, clips: np.ndarray) -> dict:
    """Captions `clips` with the export alone and with Keras, and compares them.

    Records the largest logit difference along Keras' greedy caption of the
    first clip, the share of clips given the same greedy caption, and
    milliseconds per greedy caption of both.
    """
    meta = runs.read_json(sidecar(path))
    exported = Captioner.from_litert(path, meta) if Path(path).suffix == ".tflite" else \
        Captioner.from_savedmodel(path, meta)
    keras_cap = Captioner.from_keras(model, vocab, meta)
    diffs = []
    for one in (keras_cap, exported):  # logits along the same (Keras-chosen) words
        state, memory = one.encode(clips[:1].astype(np.float32))
        words = [BOS] + keras_cap.ids(clips[:1])[0]
        logits = []
        for w in words:
            out, state = one.step_fn(np.array([w], np.int32), state, memory)
            logits.append(np.asarray(out)[0])
        diffs.append(np.stack(logits))
    timings = {}
    captions = {}
    for name, one in (("export", exported), ("keras", keras_cap)):
        one.caption_clips(clips[:1])  # warm up
        start = time.perf_counter()
        captions[name] = [one.caption_clips(clips[i:i + 1])[0] for i in range(len(clips))]
        timings[name] = round((time.perf_counter() - start) * 1000 / len(clips), 2)
    same = float(np.mean([a == b for a, b in zip(captions["export"], captions["keras"])]))
    return {"clips": int(len(clips)), "max_logit_diff": float(np.max(np.abs(diffs[0] - diffs[1]))),
            "same_greedy_caption": same, "ms_per_caption": timings["export"],
            "keras_ms_per_caption": timings["keras"], "example": captions["export"][0]}
