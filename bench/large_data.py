"""Peak memory of training as the data set grows tenfold: in memory against streamed from disk.

    python bench/large_data.py [--recordings ../shared/data/fsdd/recordings] [--scales 1 10]
                               [--recipe kws_ugru_s_fsdd] [--epochs 1] [--out /tmp/zoo_large_data]

Builds FSDD-layout folders holding the recordings `scale` times over (symbolic links, each copy under new
speaker names, so every split grows alike), then for each scale trains the recipe in a child process twice:
with the clips in memory (`data.in_memory_mb` above the set's size) and streamed from disk
(`data.in_memory_mb=0`: decoded a clip at a time into a file, read a batch at a time). Each child's peak
resident memory comes from the kernel (`wait4`'s `ru_maxrss`). Prints JSON: per scale and mode the clips,
peak MB, seconds and test accuracy, and each mode's growth in peak MB from the smallest scale to the largest.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from measure import measure

from zoo.cli import command_line
from zoo.core.errors import ZooError, one_line_errors
from zoo.core.runs import read_json

_FSDD = re.compile(r"^(\d)_([A-Za-z0-9]+)_(\d+)\.wav$")


def replicate(recordings: Path, folder: Path, scale: int) -> int:
    """`folder` with each FSDD recording linked `scale` times, the copies' speakers renamed; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(recordings.glob("*.wav")):
        match = _FSDD.match(path.name)
        if not match:
            continue
        digit, speaker, take = match.groups()
        for copy in range(scale):
            link = folder / f"{digit}_{speaker}c{copy}_{take}.wav"
            if not link.exists():
                link.symlink_to(path.resolve())
            count += 1
    if not count:
        raise ZooError(f"{recordings}: no FSDD recordings ({{digit}}_{{speaker}}_{{take}}.wav)")
    return count


@one_line_errors
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=Path, default=Path("../shared/data/fsdd/recordings"))
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--recipe", default="kws_ugru_s_fsdd")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/zoo_large_data"))
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.glob("*/run*")):
        raise ZooError(f"{args.out}: holds runs of an earlier measurement; choose another --out")
    rows = []
    for scale in args.scales:
        data = args.out / f"fsdd_x{scale}"
        clips = replicate(args.recordings, data, scale)
        for mode, megabytes in (("in_memory", 1e9), ("streamed", 0)):
            run = args.out / f"x{scale}" / f"run_{mode}"
            run.parent.mkdir(parents=True, exist_ok=True)
            log = run.parent / f"{mode}.log"
            done = measure(command_line(
                "train", args.recipe, "--data", f"fsdd:{data}", "--out", run, "--data-root", args.out / "root",
                "--set", f"train.epochs={args.epochs}", "--set", f"data.in_memory_mb={megabytes}"), log)
            if done.returncode:
                raise ZooError(f"{log}: training failed (exit {done.returncode}): {done.last_line(log)}")
            peak, seconds = done.peak_mb, done.seconds
            metrics, info = read_json(run / "metrics.json"), read_json(run / "data.json")
            rows.append(dict(scale=scale, mode=mode, clips=clips, train_clips=info["clips"]["train"],
                             streamed=info["streamed_from_disk"], peak_mb=round(peak, 1),
                             seconds=round(seconds, 1), test_accuracy=metrics.get("test_accuracy")))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    low, high = min(args.scales), max(args.scales)
    growth = {}
    for mode in ("in_memory", "streamed"):
        peaks = {r["scale"]: r["peak_mb"] for r in rows if r["mode"] == mode}
        growth[mode] = {"from_scale": low, "to_scale": high, "peak_mb_growth": round(peaks[high] - peaks[low], 1),
                        "peak_ratio": round(peaks[high] / peaks[low], 3)}
    print(json.dumps({"recipe": args.recipe, "epochs": args.epochs, "runs": rows, "growth": growth}, indent=2))


if __name__ == "__main__":
    main()
