"""Non-recurrent anchors on FSDD's official split; prints one JSON object.

    python bench/fsdd_baselines.py --data PATH/recordings [--run RUN ...]

MFCC mean+std statistics (librosa, 20 coefficients) into an RBF SVM and into
logistic regression (scikit-learn), trained on takes 5-49 and tested on takes
0-4 (300 clips), plus the test accuracy of each given run directory's model on
the same clips, so a recipe is compared with the baselines in one run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import librosa
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import zoo
from zoo.core.errors import one_line_errors


def mfcc_stats(path: Path):
    y, sr = librosa.load(path, sr=8000)
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, n_fft=256, hop_length=80)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="FSDD recordings folder")
    p.add_argument("--run", type=Path, nargs="*", default=[], help="run directories to score too")
    args = p.parse_args()
    files = sorted(args.data.glob("*_*_*.wav"))
    test = np.array([int(f.stem.split("_")[2]) < 5 for f in files])
    y = np.array([int(f.stem.split("_")[0]) for f in files])
    x = np.stack([mfcc_stats(f) for f in files])
    result = {"train_clips": int((~test).sum()), "test_clips": int(test.sum())}
    for name, clf in (("svm_rbf", SVC(C=10, gamma="scale")), ("logistic", LogisticRegression(max_iter=2000))):
        model = make_pipeline(StandardScaler(), clf)
        start = time.perf_counter()
        model.fit(x[~test], y[~test])
        result[name] = {"test_accuracy": round(float(model.score(x[test], y[test])), 4),
                        "fit_seconds": round(time.perf_counter() - start, 3)}
    if args.run:
        words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
        test_files = [f for f, t in zip(files, test) if t]
        for run in args.run:
            preds = [r["top"][0]["label"] for r in zoo.load(run, verb="predict").predict(test_files, top_k=1)]
            truth = [words[int(f.stem.split("_")[0])] for f in test_files]
            result[str(run)] = {"test_accuracy": round(float(np.mean([a == b for a, b in zip(preds, truth)])), 4)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
