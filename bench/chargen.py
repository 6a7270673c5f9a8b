"""Character-level generation benchmark; prints one JSON object.

    python bench/chargen.py [--recipe chargen_lstm_m_shakespeare] [--data shakespeare:PATH]
                            [--seconds 190] [--set SECTION.FIELD=VALUE ...] [--run RUN]

Measures, in one run on this machine:
- validation loss against wall-clock time: trains RECIPE for `--seconds` (its
  `time_cosine` schedule anneals within that budget) and reads the curve from
  the run's history (`seconds`, `val_loss` per epoch), plus the best checkpoint's
  loss on the whole validation split (per window, and with the state carried);
  with `--run`, reads an existing run instead of training;
- training throughput (characters/s of `model.fit` after warm-up);
- generation speed, one character per step with the state carried: the Keras
  step function (`tf.function`) against the LiteRT one-step generator, float
  and dynamic-range, each on one thread.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

import zoo
from zoo.core import litert, runs
from zoo.core.errors import one_line_errors
from zoo.core.load import load_run
from zoo.families.chargen.export import export_meta, export_tflite
from zoo.families.chargen.generate import Generator
from zoo.families.registry import FAMILIES, resolve


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipe", default="chargen_lstm_m_shakespeare")
    p.add_argument("--data", help="KIND[:PATH], e.g. shakespeare:../shared/data/text/tinyshakespeare.txt")
    p.add_argument("--seconds", type=float, default=190.0, help="training budget (train.max_seconds)")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--run", type=Path, help="an existing run directory: skip training")
    p.add_argument("--out", type=Path, help="run directory to create (default: a temporary one)")
    args = p.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="zoo-bench-")
    if args.run:
        run_dir = args.run
    else:
        recipe = resolve(args.recipe, args.data, [f"train.max_seconds={args.seconds}"] + args.overrides)
        run_dir = args.out or Path(tmp.name) / "run"
        zoo.train(recipe, run_dir, verbose=0)
    recipe, family, model = load_run(run_dir, FAMILIES)
    vocab = family.load_meta(run_dir)
    metrics = runs.read_json(run_dir / runs.METRICS)
    with open(run_dir / runs.HISTORY) as f:
        curve = [{"seconds": float(r["seconds"]), "val_loss": round(float(r["val_loss"]), 4)}
                 for r in csv.DictReader(f)]
    m, d, t = recipe.model, recipe.data, recipe.train
    result = {"recipe": recipe.name, "cell": m.cell, "units": m.units, "layers": m.layers,
              "params": int(model.count_params()), "seq_len": d.seq_len, "batch_size": t.batch_size,
              "budget_s": t.max_seconds, "cpus": os.cpu_count(),
              "validation_loss": metrics["validation_loss"],
              "validation_bits_per_char": metrics["validation_bits_per_char"],
              "validation_stateful": metrics["validation_stateful"],
              "train_seconds": metrics["train_seconds"], "curve": curve}

    # Training throughput on a fresh copy (random ids: speed does not depend on the text).
    trainee = family.build(recipe, vocab)
    trainee.compile(optimizer=keras.optimizers.AdamW(1e-3), **family.compile_args(recipe))
    rng = np.random.default_rng(0)
    x = rng.integers(0, len(vocab), (t.batch_size * 12, d.seq_len + 1)).astype(np.int32)
    trainee.fit(x[:t.batch_size * 2, :-1], x[:t.batch_size * 2, 1:], batch_size=t.batch_size, verbose=0)
    start = time.perf_counter()
    trainee.fit(x[:, :-1], x[:, 1:], batch_size=t.batch_size, verbose=0)
    result["train_chars_per_s"] = round(x[:, :-1].size / (time.perf_counter() - start), 1)

    # Generation: Keras step function vs LiteRT one-step generators.
    gen = {"keras_tf_function": Generator.from_keras(model, vocab).chars_per_s(2000, warmup=20)}
    meta = export_meta(recipe, vocab)
    for quantize, name in (("none", "float"), ("dynamic", "dynamic")):
        path = Path(tmp.name) / f"model_{name}.tflite"
        path.write_bytes(litert.strip_tensor_names(export_tflite(model, recipe, quantize)))
        gen[f"litert_{name}"] = Generator.from_litert(path, meta).chars_per_s(2000, warmup=20)
        result.setdefault("litert_size_bytes", {})[name] = path.stat().st_size
    result["generate_chars_per_s"] = gen
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
