"""Keyword accuracy on held-out clips in noise at fixed SNRs: a validation measure that does not saturate.

    python bench/noisy_clips.py RUN [RUN ...] [--split validation] [--snr 0 5 10] [--last] [--seed 0]

On FSDD every recipe scores 99-100 % on the clean validation split (one clip is 0.33
points), so clean validation accuracy cannot tell two recipes or two checkpoints apart.
Here each keyword clip of `--split` is cut to its spoken part, centred in a clip-long
stretch of the data set's background noise (the long streams' noise, at their level) and
scaled to `--snr` dB over the noise measured over the spoken part, as `bench/make_stream.py`
places words. The noise is drawn from `--seed`, so every run hears the same clips. With
`--last`, the run's last-epoch weights (its newest checkpoint, `checkpoints/epoch-NNNN.npz`) are scored beside
the kept ones. Prints JSON: accuracy per SNR and their mean, per run, then the mean and
sample standard deviation over runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from zoo.audio.decode import fit_length
from zoo.core import checkpoints
from zoo.core.errors import ZooError, one_line_errors
from zoo.core.load import load_run
from zoo.families.kws.data import load_audio
from zoo.families.kws.longstream import at_snr, background, held_out_words, within_peak
from zoo.families.kws.model import num_samples
from zoo.families.registry import FAMILIES


def noisy_set(words, noise_bank, length: int, snr_db: float, seed: int) -> np.ndarray:
    """Each spoken part centred in `length` samples of background noise, `snr_db` over it."""
    rng = np.random.default_rng(seed)
    clips = []
    for _, speech, _ in words:
        speech = at_snr(speech[:length], snr_db)
        clips.append(within_peak(background(noise_bank, length, rng) + fit_length(speech, length))[0])
    return np.stack(clips).astype(np.float32)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(model.predict(x, batch_size=256, verbose=0), axis=-1) == y))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, nargs="+")
    ap.add_argument("--split", default="validation", choices=["train", "validation", "test"])
    ap.add_argument("--snr", type=float, nargs="+", default=[0.0, 5.0, 10.0])
    ap.add_argument("--last", action="store_true", help="also score the last epoch's weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-root", type=Path, default=Path("data"))
    args = ap.parse_args()
    results, sets = [], {}
    for run in args.runs:
        recipe, family, model = load_run(run, FAMILIES)
        labels = family.load_meta(run)
        key = (recipe.data.source, recipe.data.path, recipe.data.sample_rate, tuple(labels))
        if key not in sets:  # runs of one data set hear the same noisy clips
            aset = load_audio(recipe, args.data_root)
            words = held_out_words(aset, args.split, labels, recipe.data.sample_rate)
            y = np.array([labels.index(w) for w, _, _ in words])
            sets[key] = (y, {snr: noisy_set(words, aset.noise, num_samples(recipe), snr, args.seed)
                             for snr in args.snr})
        y, noisy = sets[key]
        for name in ("kept", "last") if args.last else ("kept",):
            if name == "last" and not checkpoints.restore(model, run / "checkpoints")[0]:
                raise ZooError(f"{run / 'checkpoints'}: no whole epoch-NNNN.npz checkpoint to score as --last")
            by_snr = {f"{snr:g} dB": round(100 * accuracy(model, noisy[snr], y), 2) for snr in args.snr}
            results.append({"run": str(run), "weights": name, "clips": len(y), **by_snr,
                            "mean": round(statistics.fmean(by_snr.values()), 2)})
    summary = {}
    for name in ("kept", "last"):
        means = [r["mean"] for r in results if r["weights"] == name]
        if means:
            summary[name] = {"mean": round(statistics.fmean(means), 2),
                             "sd": round(statistics.stdev(means), 2) if len(means) > 1 else 0.0}
    print(json.dumps({"split": args.split, "snr_db": args.snr, "seed": args.seed, "runs": results,
                      "over_runs": summary}, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
