"""Listener settings and ensemble sizes on one stream, from each run's per-window scores; prints JSON.

    python bench/listener.py RUN [RUN ...] --stream V.wav --events V.json
        [--groups 0,1,2 3,4,5] [--windows 8 16] [--smooth 0.5 0.75 1.0] [--max-false-alarms 2] [--count all|noise]

Meant for a validation stream: it is how listener defaults and ensemble sizes are chosen
without the test stream. Each run's class probabilities for every staggered window
(`hop_probabilities` with 16 windows per clip length) are computed once and cached in the run
(`listener_{stream}.npz`, rebuilt when the run's model is newer); 8 windows are every other one
of the 16. A group of runs (`--groups`, indices into RUN) is scored as `zoo ensemble` would join
it: the mean of its members' probabilities. For every windows x smoothing setting and group,
the detector (`zoo.families.kws.listen.Detector`) is run at each threshold of the sweep, and
the highest recall at no more than `--max-false-alarms` false alarms per hour is reported, with
the mean and sample standard deviation over groups.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from zoo.core import runs
from zoo.core.errors import one_line_errors
from zoo.core.load import load
from zoo.families.kws.listen import Detector, DetectorSettings, hop_probabilities
from zoo.families.kws.stream_eval import COUNT_HELP, FALSE_ALARMS, detection_curve, pick_threshold, read_truth
from zoo.families.registry import FAMILIES

MOST_WINDOWS = 16


def window_scores(run: Path, stream: Path) -> dict:
    """Times and probabilities [n, classes] of every staggered window of `run`, in the order they come."""
    cache = run / f"listener_{stream.stem}.npz"
    if cache.exists() and cache.stat().st_mtime > (run / "model.keras").stat().st_mtime:
        with np.load(cache) as d:
            return {k: d[k] for k in d.files}
    loaded = load(run, FAMILIES)
    model = loaded.family.inference(loaded)
    step = model.step_function()
    clip_hops = model.clip_hops(step)
    times, probs = [], []
    for time, p in hop_probabilities(step, stream, model.sample_rate, MOST_WINDOWS, clip_hops):
        times.append(time)
        probs.append(p)
    scores = {"times": np.array(times), "probs": np.array(probs, np.float32), "labels": np.array(model.labels),
              "hop_seconds": np.array(step.hop / model.sample_rate), "clip_hops": np.array(clip_hops)}
    with runs.atomic_path(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, **scores)
    return scores


def operating_point(scores: list[dict], windows: int, smooth: float, truth: list[dict], max_fa: float,
                    count: str = "all") -> dict:
    """The highest recall at no more than `max_fa` false alarms per hour, for runs joined by their mean."""
    # The staggered windows take turns (each yields once per clip length, in the order of their starts),
    # so the n-th score is window n % MOST_WINDOWS, and every other one of 16 are the 8 windows' scores.
    keep = np.arange(len(scores[0]["times"])) % (MOST_WINDOWS // windows) == 0
    times = scores[0]["times"][keep]
    probs = np.mean([s["probs"][keep] for s in scores], axis=0, dtype=np.float64)
    labels = [str(x) for x in scores[0]["labels"]]
    settings = DetectorSettings(window_seconds=smooth, windows=windows)
    det = Detector(labels, float(scores[0]["hop_seconds"]) * int(scores[0]["clip_hops"]) / windows,
                   settings.window_seconds, settings.threshold, settings.suppress_seconds, settings.min_hops)
    kept = [(t, mean) for t, p in zip(times, probs) if (mean := det.smooth(p)) is not None]
    t = np.array([k[0] for k in kept])
    tops = np.array([int(np.argmax(k[1])) for k in kept])
    top_scores = np.array([float(np.max(k[1])) for k in kept])
    seconds = float(times[-1])
    curve = detection_curve(labels, tops, t, top_scores, truth, seconds, settings)
    chosen = pick_threshold(curve, max_fa, count)
    row = next(r for r in curve if r["threshold"] == chosen)
    return {"threshold": chosen, **{k: row[k] for k in ("recall", "false_alarms_per_hour", "wrong", "in_noise",
                                                         "noise_false_alarms_per_hour")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--stream", type=Path, required=True)
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--groups", nargs="*", default=None,
                        help="indices into RUN, comma-separated; default: each alone")
    parser.add_argument("--windows", nargs="+", type=int, default=[8, 16], choices=[1, 2, 4, 8, 16])
    parser.add_argument("--smooth", nargs="+", type=float, default=[0.5, 0.75, 1.0])
    parser.add_argument("--max-false-alarms", type=float, default=2.0)
    parser.add_argument("--count", choices=sorted(FALSE_ALARMS), default="all",
                        help=COUNT_HELP)
    args = parser.parse_args()
    truth = read_truth(args.events)["events"]
    scores = [window_scores(run, args.stream) for run in args.runs]
    groups = [[int(i) for i in g.split(",")] for g in args.groups] if args.groups else [[i] for i in range(len(scores))]
    for g in groups:  # an ensemble's members read the same windows, as `zoo ensemble` requires one architecture
        if any(not np.array_equal(scores[i]["times"], scores[g[0]]["times"]) for i in g):
            parser.error(f"group {','.join(map(str, g))}: its runs' windows end at different times "
                         "(another front end or clip length), so they cannot be joined")
    results = []
    for windows in args.windows:
        for smooth in args.smooth:
            points = [operating_point([scores[i] for i in g], windows, smooth, truth, args.max_false_alarms,
                                      args.count) for g in groups]
            recalls = [100 * p["recall"] for p in points]
            results.append({"windows": windows, "smooth_seconds": smooth,
                            "recall_mean": round(statistics.mean(recalls), 2),
                            "recall_sd": round(statistics.stdev(recalls), 2) if len(recalls) > 1 else 0.0,
                            "groups": [{"runs": [str(args.runs[i]) for i in g], **p} for g, p in zip(groups, points)]})
    print(json.dumps({"stream": str(args.stream), "max_false_alarms_per_hour": args.max_false_alarms,
                      "false_alarms_counted": args.count, "results": results}, indent=1))


if __name__ == "__main__":
    one_line_errors(main)()
