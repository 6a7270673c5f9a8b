"""Streaming keyword-spotting benchmark; prints one JSON object.

    python bench/streaming.py RUN [RUN ...] [--val-stream V.wav --test-stream T.wav]
        [--windows 8] [--max-false-alarms 2] [--count all|noise] [--repeats 3000]

For each causal run, in one process on this machine:
- the streaming LiteRT step files (float, dynamic-range, int8; exported first if
  missing): size, per-hop latency on one thread (median of `--repeats` calls of
  the Python step runner, so the interpreter's call overhead is included) and the
  real-time factor (hop latency over hop duration);
- beside them, the same run's whole-clip LiteRT files: size and single-clip latency;
- with streams (`bench/make_stream.py`): the detection threshold is chosen on the
  validation stream (the highest recall at no more than `--max-false-alarms` false
  alarms per hour; `--count noise` bounds only those in noise, and wrong keywords on
  true words are reported apart), then recall and false alarms per hour on the test stream at that
  threshold, and the test stream's best operating point for reference; with several
  runs (seeds), the mean and sample standard deviation of the test figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

import zoo
from zoo.core import litert
from zoo.core.errors import one_line_errors
from zoo.core.export import QUANT_NAMES
from zoo.families.kws.stream import LiteStep
from zoo.families.kws.stream_eval import COUNT_HELP, FALSE_ALARMS, pick_threshold
from zoo.families.kws.stream_export import hop_latency_us


def exported(run: Path, quantize: str, streaming: bool) -> Path:
    path = run / "exports" / f"{'stream' if streaming else 'model'}_{QUANT_NAMES[quantize]}.tflite"
    if not path.exists():
        zoo.export(run, "tflite", quantize, streaming=streaming)
    return path


def bench_run(run: Path, repeats: int) -> dict:
    out = {}
    for quantize in ("none", "dynamic", "int8"):
        step_file = exported(run, quantize, True)
        step = LiteStep(step_file, json.loads(step_file.with_suffix(".json").read_text()))
        hop_ms = 1000 * step.hop / json.loads(step_file.with_suffix(".json").read_text())["sample_rate"]
        us = hop_latency_us(step, repeats)
        clip_file = exported(run, quantize, False)
        clip_runner = litert.single_runner(clip_file)
        meta = json.loads(clip_file.with_suffix(".json").read_text())
        clip = np.zeros((1, int(round(meta["sample_rate"] * meta["clip_seconds"]))), np.float32)
        out[QUANT_NAMES[quantize]] = {
            "stream_bytes": step_file.stat().st_size, "hop_ms": round(hop_ms, 3), "hop_latency_us": us,
            "real_time_factor": round(us / (1000 * hop_ms), 5),
            "clip_bytes": clip_file.stat().st_size, "clip_latency_ms": litert.latency_ms(clip_runner, clip, 200),
        }
    return out


def detection(run: Path, val: Path, test: Path, windows: int, max_fa: float, count: str = "all") -> dict:
    chosen = zoo.evaluate_stream(run, val, val.with_suffix(".json"), windows=windows)
    threshold = pick_threshold(chosen["curve"], max_fa, count)
    val_row = next(r for r in chosen["curve"] if r["threshold"] == threshold)
    result = zoo.evaluate_stream(run, test, test.with_suffix(".json"), windows=windows, threshold=threshold)
    best = max((r for r in result["curve"] if r[FALSE_ALARMS[count]] <= max_fa),
               key=lambda r: r["recall"], default=None)
    keep = ("threshold", "events", "hits", "recall", "false_alarms", "false_alarms_per_hour", "wrong", "repeats",
            "in_noise", "noise_false_alarms_per_hour")
    return {"windows": windows, "max_false_alarms_per_hour": max_fa, "false_alarms_counted": count,
            "validation": {k: val_row[k] for k in keep},
            "test_at_validation_threshold": {k: result[k] for k in keep},
            "test_best_within_bound (not a choice, for reference)": best and {k: best[k] for k in keep}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--val-stream", type=Path)
    ap.add_argument("--test-stream", type=Path)
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--max-false-alarms", type=float, default=2.0)
    ap.add_argument("--count", choices=sorted(FALSE_ALARMS), default="all",
                    help=COUNT_HELP)
    ap.add_argument("--repeats", type=int, default=3000)
    args = ap.parse_args()
    report = {}
    for run in args.runs:
        recipe = json.loads((run / "recipe.json").read_text())["name"]
        entry = {"run": str(run), "latency": bench_run(run, args.repeats)}
        if args.val_stream and args.test_stream:
            entry["detection"] = detection(run, args.val_stream, args.test_stream, args.windows,
                                           args.max_false_alarms, args.count)
        report[recipe if recipe not in report else f"{recipe} ({run})"] = entry
    detected = [e["detection"]["test_at_validation_threshold"] for e in report.values() if "detection" in e]
    if len(detected) > 1:  # several runs (seeds): what holds across them
        report["across runs"] = {key: {"mean": round(statistics.mean(r[key] for r in detected), 4),
                                       "sample_sd": round(statistics.stdev(r[key] for r in detected), 4),
                                       "runs": [r[key] for r in detected]}
                                 for key in ("recall", "false_alarms_per_hour", "noise_false_alarms_per_hour")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
