"""Streaming keyword export: the one-hop step model as SavedModel or LiteRT, its sidecar and its check.

The check streams held-out clips hop by hop through the written file and
compares the last scores with the Keras model's on the whole clip; it also
times one hop on one thread (the real-time factor is that time over the hop's
duration).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core import litert
from zoo.core.errors import ZooError
from zoo.core.load import output_function
from zoo.core.recipe import Recipe
from zoo.families.kws.export import export_meta
from zoo.families.kws.predict import KeywordModel
from zoo.families.kws.stream import LiteStep, StepContract, StepModel, save_step, stream_clip
from zoo.families.kws.stream_int8 import Int8Step


def stream_meta(model, recipe: Recipe, labels) -> dict:
    """The sidecar of a streaming export: what `export_meta` says, plus the hop and the state tensors."""
    step = StepModel(model)
    meta = export_meta(recipe, labels)
    rate = recipe.data.sample_rate
    meta.update(
        streaming=True, hop=step.hop, prime=step.prime,
        state_shapes={name: list(shape) for name, shape in step.state_shapes.items()},
        running_states=step.running,
        input=f"audio float32 [1, {step.hop}] ({1000 * step.hop / rate:g} ms at {rate} Hz, in [-1, 1]) "
              f"and the state tensors {', '.join(step.state_shapes)} (zeros to start)",
        output="logits over labels after this hop, and every state tensor for the next call")
    return meta


def export_stream_savedmodel(model, path: Path) -> None:
    save_step(StepModel(model), path)


def export_stream_tflite(model, quantize: str, calibration=None, clips: int = 40) -> bytes:
    """The step model as builtins-only LiteRT bytes; int8 is calibrated by streaming `clips` of `calibration`."""
    step = StepModel(model)
    if quantize != "int8":
        return litert.convert_written(lambda folder: save_step(step, folder), quantize)
    if calibration is None or len(calibration) == 0:
        raise ZooError("int8 streaming export needs training clips to calibrate on")
    int8 = Int8Step(step)
    int8.calibrate(np.asarray(calibration[:clips], np.float32))
    return litert.convert_written(int8.save, "int8")


class SavedModelStep(StepContract):
    """A streaming SavedModel's `serving_default` as a step function (the contract of `LiteStep`)."""

    def __init__(self, path: Path, meta: dict):
        from zoo.core.load import serving_signature

        self.fn = serving_signature(path)
        self.read_sidecar(meta)

    def __call__(self, chunk, state):
        out = self.fn(audio=tf.constant(chunk), **{k: tf.constant(v) for k, v in state.items()})
        out = {k: v.numpy() for k, v in out.items()}
        return out.pop("logits"), out


def step_runner(path: Path, meta: dict):
    """The step function of a streaming export (a `.tflite` file or a SavedModel folder)."""
    if not meta.get("streaming"):
        raise ZooError(f"{path}: not a streaming model; export one with zoo export RUN --streaming")
    return LiteStep(path, meta) if Path(path).suffix == ".tflite" else SavedModelStep(path, meta)


def keras_step_runner(model, recipe: Recipe, labels) -> LiteStep:
    """A run's causal Keras model as a float LiteRT step function, converted in memory (a few seconds)."""
    return LiteStep(export_stream_tflite(model, "none"), stream_meta(model, recipe, labels))


def hop_latency_us(step_fn, repeats: int = 2000) -> float:
    """Median microseconds of one step call (one thread), over `repeats` calls after a warm-up."""
    state = step_fn.zero_state()
    chunk = np.zeros((1, step_fn.hop), np.float32)
    for _ in range(20):
        step_fn(chunk, state)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step_fn(chunk, state)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e6, 2)


def check_stream(model, recipe: Recipe, path: Path, meta: dict, clips, count: int = 30) -> dict:
    """Streams `count` held-out clips through the export; compares with Keras on the whole clips."""
    x, y, _ = clips
    step_fn = step_runner(path, meta)
    if not isinstance(step_fn, LiteStep):
        count = min(count, 5)  # a SavedModel step runs eagerly: slower, fewer clips
    x, y = x[:count], y[:count]
    ref = np.asarray(model.predict_on_batch(x))
    got = np.stack([stream_clip(step_fn, clip)[-1] for clip in x])
    report = {
        "clips": int(len(y)),
        "accuracy": round(float(np.mean(got.argmax(-1) == y)), 4),
        "keras_accuracy": round(float(np.mean(ref.argmax(-1) == y)), 4),
        "max_logit_diff": float(np.max(np.abs(got - ref))),
        "agreement": round(float(np.mean(got.argmax(-1) == ref.argmax(-1))), 4),
        "hop_samples": step_fn.hop, "hop_ms": round(1000 * step_fn.hop / recipe.data.sample_rate, 3),
    }
    if isinstance(step_fn, LiteStep):
        report["hop_latency_us"] = hop_latency_us(step_fn)
        report["real_time_factor"] = round(report["hop_latency_us"] / (1000 * report["hop_ms"]), 5)
    return report


def inference(run, can_stream: bool):
    """The `KeywordModel` for a loaded model (`zoo.core.load.Loaded`): a streaming export scores whole
    clips by streaming them; a causal run converts itself to a LiteRT step the first time it listens."""
    if run.meta.get("streaming"):
        step = step_runner(run.path, run.meta)
        return KeywordModel(lambda batch: np.stack([stream_clip(step, clip)[-1] for clip in batch]),
                            run.meta, run.path, step=lambda: step)
    make = (lambda: keras_step_runner(run.model, run.recipe, run.run_meta)) if run.kind == "keras" and can_stream \
        else None
    return KeywordModel(output_function(run.kind, run.path, run.model), run.meta, run.path, step=make)
