"""Kill `zoo train` with SIGKILL at random moments, resume it, and check it ends as an uninterrupted run.

    python bench/kill_resume.py [--recipe kws_ugru_s_fsdd] [--trials 10] [--epochs 40] [--seed 0]
                                [--set train.ema=0.9 ...] [--out /tmp/kill_resume]

The recipe trains at test size (the family's `tiny` settings, `train.deterministic=True`, a cosine schedule
over epochs) on the family's sample data. One uninterrupted run gives the reference; then each trial starts
the same training as its own `zoo train` process, kills it with SIGKILL after a uniformly random share of the
reference's wall time, and runs `zoo train --resume` (or, if the kill came before the run directory had its
recipe, the same `zoo train` again). A trial passes when the resumed run exits 0, its `history.csv` holds
each epoch once, its final checkpoint equals the reference's bit for bit (weights, optimizer state and
dropout seed state), its `model.keras` loads in safe mode, and no temporary file is left. It also records
the work lost: epochs whose rows were on disk at the kill but were trained again (at most one: a kill between
an epoch's history row and its checkpoint).

Prints one JSON object: the trials, and how many passed.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

from zoo.cli import command_line
from zoo.core.errors import ZooError, one_line_errors
from zoo.core.load import load_run
from zoo.core.recipe import overrides_between
from zoo.families.registry import FAMILIES, registry


def epochs_in(run: Path) -> list[int]:
    path = run / "history.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def final_state(run: Path, epochs: int) -> list[np.ndarray]:
    with np.load(run / "checkpoints" / f"epoch-{epochs:04d}.npz") as z:
        return [z[k] for k in sorted(z.files)]


def trial(train_args: list[str], run: Path, kill_after: float, reference: list[np.ndarray], epochs: int) -> dict:
    proc = subprocess.Popen(command_line(*train_args, "--out", run), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=kill_after)
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = True
    rows_at_kill = epochs_in(run)
    saved = sorted(p.name for p in (run / "checkpoints").glob("epoch-*.npz")) if run.is_dir() else []
    again = (command_line("train", train_args[1], "--resume", "--out", run) if (run / "recipe.json").is_file()
             else command_line(*train_args, "--out", run))
    done = subprocess.run(again, capture_output=True, text=True)
    result = {"kill_after_s": round(kill_after, 2), "killed": killed, "history_rows_at_kill": len(rows_at_kill),
              "checkpoints_at_kill": saved, "resumed": "--resume" in again, "exit": done.returncode,
              "warnings": [line for line in done.stderr.splitlines() if line.startswith("warning:")]}
    if done.returncode != 0:
        result.update(passed=False, error=done.stderr.strip().splitlines()[-1:])
        return result
    restored = max([int(name[6:10]) for name in saved] or [0])
    history_once = epochs_in(run) == list(range(epochs))
    same = all(np.array_equal(a, b) for a, b in zip(reference, final_state(run, epochs), strict=True))
    leftovers = [str(p.relative_to(run)) for p in run.rglob("*.tmp-*")]
    load_run(run, FAMILIES)  # model.keras, in Keras safe mode
    result.update(history_each_epoch_once=history_once, final_state_equal=same, leftover_temporary_files=leftovers,
                  epochs_trained_again=max(0, len(rows_at_kill) - restored) if "--resume" in again else 0,
                  passed=bool(history_once and same and not leftovers))
    return result


@one_line_errors
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="kws_ugru_s_fsdd")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=40, help="tiny ones: most kills land in training")
    parser.add_argument("--seed", type=int, default=0, help="of the kill times")
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        help="further recipe overrides, e.g. train.ema=0.9 (weight averaging)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/kill_resume"))
    args = parser.parse_args(argv)
    base = registry().get(args.recipe)
    family = FAMILIES[base.family]
    if args.out.exists():
        raise ZooError(f"{args.out}: exists; give a new --out")
    tiny = family.tiny(base)
    spec = family.sample_data(args.out / "data", tiny)
    sets = overrides_between(tiny, base) + [f"train.epochs={args.epochs}", "train.deterministic=True",
                                       "train.max_seconds=0.0", "train.schedule='cosine'", *args.overrides]
    train_args = ["train", args.recipe, "--data", spec, "--data-root", args.out / "data_root",
                  *[a for s in sets for a in ("--set", s)]]
    began = time.monotonic()
    subprocess.run(command_line(*train_args, "--out", args.out / "reference"), check=True, capture_output=True)
    wall = time.monotonic() - began
    reference = final_state(args.out / "reference", args.epochs)
    rng = random.Random(args.seed)
    trials = []
    for i in range(args.trials):
        trials.append(trial(train_args, args.out / f"trial{i}", rng.uniform(0, wall), reference, args.epochs))
        shutil.rmtree(args.out / f"trial{i}")
    print(json.dumps({"recipe": args.recipe, "epochs": args.epochs, "overrides": args.overrides,
                      "reference_wall_s": round(wall, 1),
                      "trials": trials, "passed": sum(t["passed"] for t in trials), "of": len(trials)}, indent=1))


if __name__ == "__main__":
    main()
