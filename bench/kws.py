"""Keyword-spotting benchmark; prints one JSON object.

    python bench/kws.py [--recipe kws_gru_s_fsdd] [--run RUN] [--clips 1000]

Measures, in one run on this machine:
- training throughput (clips/s of `model.fit` on the recipe's model, after warm-up);
- feature throughput: our in-model front end (tf.function, batches of 100) against
  the baseline of librosa's log-mel in a Python loop, on the same clips;
- single-clip latency: Keras `model.predict` and `model(x)` against each LiteRT
  variant (float, dynamic-range, int8). With `--run`, the exports in RUN/exports
  are used (made first if missing); without, a freshly initialised model is
  converted (latency does not depend on the weights).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import tensorflow as tf

import zoo
from zoo.core import litert
from zoo.core.errors import one_line_errors
from zoo.core.export import QUANT_NAMES
from zoo.core.load import load_run
from zoo.families.kws.export import export_tflite
from zoo.families.kws.model import front_end, num_samples
from zoo.families.registry import FAMILIES, get, registry


def median_ms(fn, repeats=50):
    """The shared timing helper, for a function of no arguments."""
    return litert.latency_ms(lambda _: fn(), None, repeats)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipe", default="kws_gru_s_fsdd")
    p.add_argument("--run", type=Path, help="a trained run directory (its recipe wins)")
    p.add_argument("--clips", type=int, default=1000)
    args = p.parse_args()

    if args.run:
        recipe, family, model = load_run(args.run, FAMILIES)
        labels = family.load_meta(args.run)
    else:
        recipe = registry().get(args.recipe)
        family = get(recipe.family)
        labels = family.default_meta(recipe)
        model = family.build(recipe, labels)
    d = recipe.data
    n = num_samples(recipe)
    rng = np.random.default_rng(0)
    audio = (rng.normal(size=(args.clips, n)) * 0.1).astype(np.float32)
    onehot = np.eye(len(labels), dtype=np.float32)[rng.integers(0, len(labels), args.clips)]
    result = {"recipe": recipe.name, "cell": recipe.model.cell, "params": int(model.count_params()),
              "clips": args.clips, "sample_rate": d.sample_rate, "clip_samples": n,
              "tensorflow": tf.__version__, "cpus": os.cpu_count()}

    # Training throughput, on a fresh copy so a trained run is not touched.
    trainee = family.build(recipe, labels)
    trainee.compile(optimizer="adam", **family.compile_args(recipe))
    bs = recipe.train.batch_size
    trainee.fit(audio[: 2 * bs], onehot[: 2 * bs], batch_size=bs, epochs=1, verbose=0)
    t = time.perf_counter()
    trainee.fit(audio, onehot, batch_size=bs, epochs=1, verbose=0)
    result["train_clips_per_s"] = round(args.clips / (time.perf_counter() - t), 1)

    # Feature pipeline: our front-end layer vs librosa in a loop (same settings).
    front = front_end(recipe)
    features = tf.function(lambda x: front(x))
    features(audio[:100])
    t = time.perf_counter()
    for i in range(0, args.clips, 100):
        features(audio[i:i + 100])
    ours = args.clips / (time.perf_counter() - t)
    librosa.feature.melspectrogram(y=audio[0], sr=d.sample_rate)  # JIT warm-up
    t = time.perf_counter()
    for clip in audio:
        mel = librosa.feature.melspectrogram(
            y=clip, sr=d.sample_rate, n_fft=front.fft_length, hop_length=front.frame_step,
            win_length=front.frame_length, center=False, n_mels=front.num_mel_bins, fmin=front.fmin)
        np.log(mel + 1e-6)
    base = args.clips / (time.perf_counter() - t)
    result["features"] = {"zoo_clips_per_s": round(ours, 1), "librosa_loop_clips_per_s": round(base, 1),
                          "speedup": round(ours / base, 2)}

    # Single-clip latency: Keras vs LiteRT.
    one = audio[:1]
    call = tf.function(lambda x: model(x, training=False))
    latency = {"keras_predict_ms": median_ms(lambda: model.predict(one, verbose=0), 20),
               "keras_call_ms": median_ms(lambda: model(one, training=False), 20),
               "keras_tf_function_ms": median_ms(lambda: call(one))}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for quantize, name in QUANT_NAMES.items():
            if args.run:
                path = args.run / "exports" / f"model_{name}.tflite"
                if not path.is_file():
                    zoo.export(args.run, "tflite", quantize)
            else:
                path = Path(tmp) / f"model_{name}.tflite"
                calib = audio[:50] if quantize == "int8" else None
                path.write_bytes(litert.strip_tensor_names(export_tflite(model, recipe, quantize, (None, None, calib))))
            latency[f"litert_{name}_ms"] = litert.latency_ms(litert.single_runner(path), one, 200)
            sizes[name] = path.stat().st_size
    result["latency"] = latency
    result["litert_size_bytes"] = sizes
    result["int8_over_float_size"] = round(sizes["int8"] / sizes["float"], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
