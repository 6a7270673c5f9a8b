"""Multi-worker training against one worker, in one run: throughput ratio and accuracy over seeds.

    python bench/distributed.py [--recipe kws_gru_s_fsdd] [--data fsdd:../shared/data/fsdd/recordings]
                                [--seeds 0 1 2] [--workers 1 2] [--set train.epochs=5 ...] [--out DIR]

For each seed and each worker count N, starts N `zoo train RECIPE --strategy multiworker` processes on
127.0.0.1 (a TF_CONFIG each, as on N machines) and waits for them. Both counts go through the same training
loop, so the ratio measures distribution, not a different loop. Prints JSON: per run, the chief's validation
and test figures (the recipe's headline), its training time and epochs a minute (an epoch is the same global
batches for any N), and whether every worker ended with the same state (their `final_state_sha256`); per
worker count, the mean and sample standard deviation over seeds; and `throughput_ratio`, N workers' epochs a
minute over one worker's.

On one 2-core machine the workers share the cores: the ratio shows the cost of the collectives and of each
worker reading the whole input pipeline (the pipelines are sharded by element), not a speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from zoo.cli import command_line
from zoo.core.distributed import loopback_configs
from zoo.core.errors import ZooError, one_line_errors
from zoo.core.runs import read_json
from zoo.families.registry import FAMILIES, resolve


def train_on(workers: int, args: list[str], log: Path) -> tuple[float, list[dict]]:
    """Runs `zoo train ARGS --strategy multiworker` as `workers` local processes: (wall seconds, their reports)."""
    procs = []
    began = time.monotonic()
    for index, config in enumerate(loopback_configs(workers)):
        env = dict(os.environ, TF_CONFIG=config)
        with open(log.with_suffix(f".worker{index}.log"), "w") as out:
            procs.append(subprocess.Popen(command_line("train", *args, "--strategy", "multiworker"), env=env,
                                          stdout=out, stderr=subprocess.STDOUT, text=True))
    codes = [p.wait() for p in procs]
    wall = time.monotonic() - began
    if any(codes):
        raise ZooError(f"{log}: a worker failed (exit codes {codes}); see its .worker*.log")
    reports = []
    for index in range(workers):
        text = "\n" + log.with_suffix(f".worker{index}.log").read_text()
        reports.append(json.loads(text[text.rindex("\n{") + 1:text.rindex("}") + 1]))
    return wall, reports


def summary(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0}


@one_line_errors
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="kws_gru_s_fsdd")
    parser.add_argument("--data", default="fsdd:../shared/data/fsdd/recordings")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, default=Path("models/bench_distributed"))
    args = parser.parse_args(argv)
    recipe = resolve(args.recipe, args.data, args.overrides)  # fails here, once, on a bad name or key
    headline = FAMILIES[recipe.family].headline
    results, by_workers = [], {}
    for seed in args.seeds:
        for workers in args.workers:
            run = args.out / f"workers{workers}_seed{seed}"
            if (run / "metrics.json").is_file():
                raise ZooError(f"{run}: exists; choose another --out")
            run.parent.mkdir(parents=True, exist_ok=True)
            train_args = [args.recipe, "--data", args.data, "--out", run, "--set", f"train.seed={seed}",
                          *[f"--set={s}" for s in args.overrides]]
            logs = args.out / "logs"  # a folder, so the git-ignored `models/*/*/` holds them
            logs.mkdir(parents=True, exist_ok=True)
            wall, reports = train_on(workers, train_args, logs / f"{run.name}.log")
            metrics = read_json(run / "metrics.json")
            row = dict(seed=seed, workers=workers, wall_seconds=round(wall, 1),
                       train_seconds=metrics["train_seconds"],
                       epochs_per_minute=round(60 * metrics["epochs_run"] / metrics["train_seconds"], 2),
                       validation=metrics[headline.validation], test=metrics.get(headline.test),
                       same_final_state=len({r["final_state_sha256"] for r in reports}) == 1)
            results.append(row)
            by_workers.setdefault(workers, []).append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    table = {str(w): {"runs": len(rows), "validation": summary([r["validation"] for r in rows]),
                      "test": summary([r["test"] for r in rows]) if rows[0]["test"] is not None else None,
                      "epochs_per_minute": summary([r["epochs_per_minute"] for r in rows])}
             for w, rows in by_workers.items()}
    one = table.get("1")
    print(json.dumps({
        "recipe": args.recipe, "data": args.data, "overrides": args.overrides, "headline": headline.name,
        "cpus": os.cpu_count(), "runs": results, "by_workers": table,
        "throughput_ratio": {w: round(t["epochs_per_minute"]["mean"] / one["epochs_per_minute"]["mean"], 3)
                             for w, t in table.items()} if one else None,
        "all_workers_same_final_state": all(r["same_final_state"] for r in results)}, indent=2))


if __name__ == "__main__":
    main()
