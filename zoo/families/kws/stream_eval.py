"""`zoo eval RUN --stream LONG.wav --events TRUTH.json`: keyword detection on a long recording.

The model runs once over the recording; the smoothed top class and score of
every hop are kept, so the detector's decisions at every threshold come from
that one pass. Writes recall and false alarms per hour at the chosen threshold
and over a sweep of thresholds, and the curve as a PNG.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.families.kws.listen import DetectorSettings, events_at, score_events, smoothed_tops

THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.30, 0.996, 0.01))


def read_truth(path: Path) -> dict:
    """The true events of a stream (as `bench/make_stream.py` writes them), checked."""
    path = Path(path)
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        for event in truth["events"]:
            float(event["start"]), float(event["end"]), str(event["keyword"])
    except FileNotFoundError:
        raise ZooError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ZooError(f"{path}: not a JSON file ({e.__class__.__name__})") from None
    except (KeyError, TypeError, ValueError) as e:
        raise ZooError(f"{path}: not an event list (each event needs start, end and keyword; {e!r})") from None
    return truth


def detection_curve(labels, tops, times, scores, truth_events, seconds: float, settings: DetectorSettings,
                    thresholds=THRESHOLDS) -> list[dict]:
    """Recall and false alarms per hour at each threshold."""
    return [{"threshold": t, **score_events(events_at(labels, tops, times, scores, t, settings), truth_events,
                                            seconds)} for t in thresholds]


FALSE_ALARMS = {"all": "false_alarms_per_hour", "noise": "noise_false_alarms_per_hour"}
COUNT_HELP = "false alarms the bound holds: all unmatched detections, or only those in noise"


def pick_threshold(curve: list[dict], max_false_alarms_per_hour: float, count: str = "all") -> float:
    """The threshold with the highest recall whose false alarms per hour stay within the bound
    (the lowest such threshold on ties); the highest threshold if none does.

    `count` says which false alarms the bound holds: `all` (every unmatched detection) or
    `noise` (only those within no true event's span, as TensorFlow's streaming accuracy counts
    false positives; wrong keywords on a true word are then reported apart).
    """
    key = FALSE_ALARMS[count]
    ok = [row for row in curve if row[key] <= max_false_alarms_per_hour]
    if not ok:
        return curve[-1]["threshold"]
    best = max(row["recall"] for row in ok)
    return min(row["threshold"] for row in ok if row["recall"] == best)


def plot_curve(curve: list[dict], chosen: dict, out: Path, title: str) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot([r["false_alarms_per_hour"] for r in curve], [100 * r["recall"] for r in curve], ".-")
    ax.plot([chosen["false_alarms_per_hour"]], [100 * chosen["recall"]], "o", color="red",
            label=f"threshold {chosen['threshold']}")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("false alarms per hour")
    ax.set_ylabel("recall (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    runs.save_figure(fig, out)


def evaluate_stream(model, recording: Path, truth_path: Path, out_dir: Path, **options) -> dict:
    """Detection figures of a `KeywordModel` on a long recording; writes `stream_{stem}.png` into `out_dir`.

    `options` are `DetectorSettings` fields (`threshold`, `windows`, ...).
    """
    try:
        settings = DetectorSettings(**options)
    except TypeError as e:
        raise ZooError(f"detector settings: {e}") from None
    truth = read_truth(truth_path)
    step = model.step_function()
    times, tops, scores = smoothed_tops(step, model.labels, recording, model.sample_rate, settings,
                                        model.clip_hops(step))
    seconds = float(times[-1]) if len(times) else 0.0
    if seconds <= 0:
        raise ZooError(f"{recording}: shorter than the smoothing window")
    curve = detection_curve(model.labels, tops, times, scores, truth["events"], seconds, settings)
    chosen_threshold = settings.threshold
    chosen = {"threshold": chosen_threshold,
              **score_events(events_at(model.labels, tops, times, scores, chosen_threshold, settings),
                             truth["events"], seconds)}
    stem = Path(recording).stem
    plot_curve(curve, chosen, Path(out_dir) / f"stream_{stem}.png",
               f"{Path(recording).name}: {seconds / 60:.1f} min, {len(truth['events'])} keywords")
    return {"recording": str(recording), "seconds": round(seconds, 2), "snr_db": truth.get("snr_db"),
            "hop_ms": round(1000 * step.hop / model.sample_rate, 3), "settings": dataclasses.asdict(settings) | {
                "threshold": chosen_threshold}, **chosen, "curve": curve}
