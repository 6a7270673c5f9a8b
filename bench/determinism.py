"""What TensorFlow's op determinism buys and costs; prints one JSON object.

    python bench/determinism.py [--recipe kws_ugru_s_fsdd] [--data fsdd:PATH] [--epochs 3]

Trains the recipe four times in fresh processes (the setting is process-wide),
same seed: twice with `train.deterministic=True`, twice without. Reports, for
each setting, whether the two runs ended with bit-identical weights, the largest
weight difference between them, and the training seconds; and the slowdown of
the deterministic runs. Without `--data`, a small eSpeak NG digit set is
generated (no download).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

from zoo.core.errors import one_line_errors
from zoo.families.kws.sample import write_digit_folder
from zoo.families.registry import FAMILIES


def train(recipe: str, data: str, out: Path, data_root: Path, epochs: int, deterministic: bool) -> dict:
    subprocess.run([sys.executable, "-m", "zoo.cli", "train", recipe, "--data", data, "--out", str(out),
                    "--data-root", str(data_root), "--set", f"train.epochs={epochs}",
                    "--set", f"train.deterministic={deterministic}"], check=True, capture_output=True)
    metrics = json.loads((out / "metrics.json").read_text())
    weights = keras.saving.load_model(out / "model.keras", compile=False, safe_mode=True,
                                      custom_objects=FAMILIES["kws"].custom_objects()).get_weights()
    return {"seconds": metrics["train_seconds"], "weights": weights}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default="kws_ugru_s_fsdd")
    ap.add_argument("--data")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="zoo-determinism-") as tmp:
        tmp = Path(tmp)
        data = args.data or f"fsdd:{write_digit_folder(tmp / 'digits', ('zero', 'one', 'two'))}"
        report = {"recipe": args.recipe, "data": data, "epochs": args.epochs}
        for deterministic in (True, False):
            runs = [train(args.recipe, data, tmp / f"{deterministic}{i}", tmp / "data_root", args.epochs,
                          deterministic) for i in range(2)]
            diff = max(float(np.max(np.abs(a - b))) for a, b in zip(runs[0]["weights"], runs[1]["weights"]))
            report["deterministic" if deterministic else "default"] = {
                "identical_weights": diff == 0.0, "max_weight_difference": diff,
                "train_seconds": [r["seconds"] for r in runs]}
        det, default = report["deterministic"], report["default"]
        report["slowdown"] = round(sum(det["train_seconds"]) / sum(default["train_seconds"]), 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
