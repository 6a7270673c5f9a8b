"""Captioning benchmark; prints one JSON object.

    python bench/caption.py --run RUN [--clips 64] [--beam 3]
    python bench/caption.py [--recipe caption_s2vt_lstm_shapes] [--set SECTION.FIELD=VALUE ...]

Measures, in one run on this machine, for a trained run (or an untrained model
of RECIPE: speed does not depend on the weights):
- training throughput: clips/s of `model.fit` (teacher forcing) after warm-up;
- decoding speed, captions/s over `--clips` test clips: Keras (batched,
  `tf.function` encoder and step) against the LiteRT file (float and
  dynamic-range, one thread, one clip at a time), greedy and beam search; and
  how often each LiteRT caption equals the Keras one.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from zoo.core import litert
from zoo.core.errors import one_line_errors
from zoo.core.load import load_run
from zoo.families.caption.captioner import Captioner
from zoo.families.caption.data import load_split
from zoo.families.caption.export import export_meta, export_tflite
from zoo.families.registry import FAMILIES, resolve


def captions_per_s(captioner: Captioner, clips: np.ndarray, beam: int, one_at_a_time: bool) -> tuple[float, list]:
    captioner.caption_clips(clips[:1] if one_at_a_time else clips, beam)  # warm up at the timed shapes
    start = time.perf_counter()
    if one_at_a_time:
        texts = [captioner.caption_clips(clips[i:i + 1], beam)[0] for i in range(len(clips))]
    else:
        texts = captioner.caption_clips(clips, beam)
    return round(len(clips) / (time.perf_counter() - start), 2), texts


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, help="a trained run directory")
    p.add_argument("--recipe", default="caption_s2vt_lstm_shapes", help="without --run: an untrained model of it")
    p.add_argument("--data", help="KIND[:PATH] (default: the recipe's)")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--clips", type=int, default=64)
    p.add_argument("--beam", type=int, default=3)
    args = p.parse_args()

    family = FAMILIES["caption"]
    if args.run:
        recipe, family, model = load_run(args.run, FAMILIES)
        vocab = family.load_meta(args.run)
    else:
        recipe = resolve(args.recipe, args.data, ["data.train_clips=64", f"data.test_clips={args.clips}",
                                                  *args.overrides])
        vocab = family.datasets(recipe, Path("data")).meta
        model = family.build(recipe, vocab)
    recipe = family.with_data(recipe, args.data)
    clips = load_split(recipe, "test")[0].clips[:args.clips].astype(np.float32)
    meta = export_meta(recipe, vocab)
    t = recipe.train
    result = {"recipe": recipe.name, "head": recipe.model.head, "cell": recipe.model.cell,
              "params": int(model.count_params()), "trained": bool(args.run), "cpus": os.cpu_count(),
              "clips": int(len(clips)), "beam": args.beam}

    # Training throughput on a fresh copy, random words (speed does not depend on them).
    trainee = family.build(recipe, vocab)
    trainee.compile(optimizer=keras.optimizers.AdamW(1e-3), **family.compile_args(recipe))
    rng = np.random.default_rng(0)
    n = t.batch_size * 8
    x = rng.uniform(0, 255, (n, *clips.shape[1:])).astype(np.float32)
    words = rng.integers(4, len(vocab), (n, recipe.data.max_words)).astype(np.int32)
    targets = words[:, 1:]
    if recipe.model.concepts:
        targets = {"words": targets, "concepts": rng.integers(0, 2, (n, len(vocab))).astype(np.float32)}

    def first(k, y):
        return {name: v[:k] for name, v in y.items()} if isinstance(y, dict) else y[:k]

    k = t.batch_size * 2
    trainee.fit([x[:k], words[:k, :-1]], first(k, targets), batch_size=t.batch_size, verbose=0)
    start = time.perf_counter()
    trainee.fit([x, words[:, :-1]], targets, batch_size=t.batch_size, verbose=0)
    result["train_clips_per_s"] = round(n / (time.perf_counter() - start), 1)

    keras_cap = Captioner.from_keras(model, vocab, meta)
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as tmp:
        for quantize in ("none", "dynamic"):
            path = Path(tmp) / f"{quantize}.tflite"
            path.write_bytes(litert.strip_tensor_names(export_tflite(model, recipe, quantize)))
            lite = Captioner.from_litert(path, meta)
            for beam in (1, args.beam):
                key = "greedy" if beam == 1 else f"beam{beam}"
                speed, texts = captions_per_s(lite, clips, beam, one_at_a_time=True)
                if quantize == "none":
                    k_speed, k_texts = captions_per_s(keras_cap, clips, beam, one_at_a_time=False)
                    k_one, _ = captions_per_s(keras_cap, clips[:16], beam, one_at_a_time=True)
                    result[f"keras_{key}_captions_per_s"] = k_speed
                    result[f"keras_{key}_one_at_a_time_captions_per_s"] = k_one
                    reference = k_texts
                result[f"litert_{quantize}_{key}_captions_per_s"] = speed
                result[f"litert_{quantize}_{key}_same_as_keras"] = round(
                    float(np.mean([a == b for a, b in zip(texts, reference)])), 4)
            result[f"litert_{quantize}_bytes"] = path.stat().st_size
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
