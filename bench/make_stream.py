"""Writes a long test stream for keyword detection: held-out keyword clips in minutes of noise.

    python bench/make_stream.py RUN --split test --minutes 30 --snr 10 --out data/streams/fsdd_test
        [--data KIND:PATH] [--distractors FOLDER] [--seed 0] [--data-root data]

Keywords come from the run's data set (or `--data`), from `--split` only, and
are placed at random times 2-6 s apart at `--snr` dB over the data set's
background noise (synthetic coloured noise where the data set has none).
`--distractors` takes a `label/*.wav` folder: clips of words the model does not
know are mixed in among the keywords and listed apart. Writes OUT.wav and
OUT.json (the true events), then prints a JSON summary. Score a model with
`zoo eval RUN --stream OUT.wav --events OUT.json`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zoo.core.errors import one_line_errors
from zoo.core.load import load_run
from zoo.families.kws.longstream import write_stream
from zoo.families.registry import FAMILIES


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--split", default="test", choices=["train", "validation", "test"])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--snr", type=float, default=10.0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", help="KIND[:PATH] (default: the run's data set)")
    ap.add_argument("--distractors", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-root", type=Path, default=Path("data"))
    args = ap.parse_args()
    recipe, family, _ = load_run(args.run, FAMILIES)
    recipe = family.with_data(recipe, args.data)
    print(json.dumps(write_stream(recipe, family.load_meta(args.run), args.data_root, args.out, args.split,
                                  args.minutes, args.snr, args.seed, args.distractors), indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
