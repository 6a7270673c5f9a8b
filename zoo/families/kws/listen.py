"""Keyword detection over recordings of any length: a streaming step model, posterior smoothing, events.

`Detector` turns per-hop class probabilities into keyword events the way
TensorFlow Lite Micro's `RecognizeCommands` does: it averages the probabilities
over a sliding window, takes the top class, and reports it when its average is
above the threshold and it differs from the last reported class or the
suppression time has passed since that report. Non-keyword classes
(`_silence_`, `_unknown_`) are tracked but never reported.

`listen` reads a wav in blocks (any length, any sample rate, resampled on the
fly), feeds a step function hop by hop and yields events: memory stays bounded
by one block and the smoothing window. The state runs on through the whole
recording, or (`DetectorSettings.windows`) is reset every clip length in a few
staggered copies, so that each score reads one clip-long window as in training.

Example:
    >>> det = Detector(["_silence_", "yes"], hop_seconds=0.1, window_seconds=0.3, threshold=0.6)
    >>> probs = [[1.0, 0.0]] * 3 + [[0.1, 0.9]] * 5 + [[1.0, 0.0]] * 5
    >>> [e for t, p in enumerate(probs) if (e := det.update(np.array(p), t * 0.1))]
    [{'time': 0.5, 'keyword': 'yes', 'score': 0.9}]
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import itertools

import numpy as np

from zoo.audio.decode import wav_blocks
from zoo.audio.speech import SILENCE, UNKNOWN

NON_KEYWORDS = (SILENCE, UNKNOWN)


@dataclasses.dataclass(frozen=True)
class DetectorSettings:
    """How per-hop scores become events.

    Attributes:
        threshold: smoothed probability a keyword must exceed.
        window_seconds: posterior smoothing window (average of the last hops).
        suppress_seconds: after an event, the same keyword is not reported again for this long.
        min_hops: scores the window must hold before anything is reported.
        windows: 0 runs one state through the whole recording; K > 0 runs K staggered
            states, each reset every clip length, and scores each full window
            (`hop_probabilities`).

    The defaults were chosen on a validation stream (`models/kws_ugru_s_fsdd/README.md`): one
    state left running for minutes drifts into states no training clip produced and fires in
    noise; 8 windows per clip length, averaged over 0.75 s, do not. The threshold is the
    median of the single runs' choices there (the highest recall at no more than 2 false
    alarms per hour; three seeds on validation streams at 10, 20 and 30 dB: 0.73-0.89).
    Ensembles of three choose lower ones (0.73-0.78).
    """

    threshold: float = 0.85
    window_seconds: float = 0.75
    suppress_seconds: float = 1.0
    min_hops: int = 3
    windows: int = 8


class Detector:
    """Smoothed posteriors -> keyword events (see the module docstring).

    Args:
        labels: class names, in the model's order.
        hop_seconds: time between two updates.
        window_seconds, threshold, suppress_seconds, min_hops: as in `DetectorSettings`.
    """

    def __init__(self, labels, hop_seconds: float, window_seconds: float = 0.3, threshold: float = 0.7,
                 suppress_seconds: float = 1.0, min_hops: int = 3):
        self.size = max(1, int(round(window_seconds / hop_seconds)))
        self.threshold, self.suppress, self.min_hops = threshold, suppress_seconds, min(min_hops, self.size)
        self.window = collections.deque(maxlen=self.size)
        self.set_labels(labels)

    def set_labels(self, labels) -> None:
        """Sets the class names and starts afresh."""
        self.labels = list(labels)
        self.keyword = np.array([name not in NON_KEYWORDS for name in self.labels])
        self.window.clear()
        self.total = np.zeros(len(self.labels), np.float64)
        self.last_label, self.last_time = None, -np.inf

    def smooth(self, probs: np.ndarray) -> np.ndarray | None:
        """Adds one hop's probabilities; the window's average (None until `min_hops` hops)."""
        if len(self.window) == self.size:
            self.total -= self.window[0]
        self.window.append(probs)
        self.total += probs
        return self.total / len(self.window) if len(self.window) >= self.min_hops else None

    def decide(self, top: int, score: float, time: float) -> dict | None:
        """The event for a smoothed top class and score at `time`, or None."""
        if score <= self.threshold:
            return None
        if top == self.last_label and time - self.last_time <= self.suppress:
            return None
        self.last_label, self.last_time = top, time
        if not self.keyword[top]:
            return None
        return {"time": round(time, 3), "keyword": self.labels[top], "score": round(score, 4)}

    def update(self, probs: np.ndarray, time: float) -> dict | None:
        """One hop: probabilities [labels] whose audio ends at `time` seconds; an event or None."""
        mean = self.smooth(np.asarray(probs, np.float64))
        if mean is None:
            return None
        top = int(np.argmax(mean))
        return self.decide(top, float(mean[top]), time)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def hop_probabilities(step_fn, path, sample_rate: int, windows: int = 0, window_hops: int = 0):
    """Yields (end time in seconds, class probabilities) as a wav streams through, in bounded memory.

    With `windows=0` one state runs through the whole recording and every hop
    yields. With `windows=K`, K states run side by side, each reset to zeros every
    `window_hops` hops (the model's clip length), their resets staggered by
    `window_hops / K`; each yields when its window is full. A reset keeps the states that
    follow the signal rather than the window's content (`step_fn.running`: the audio
    buffer), so a window starts as a training clip does, from real audio. So every score comes
    from exactly the kind of input the model was trained on (a clip-long window
    read from the zero state), K times per clip length, and the recording is framed by silence
    (half a clip length before, one after). A last partial hop is dropped.
    """
    hop = step_fn.hop
    count = max(1, windows)
    states = [step_fn.zero_state() for _ in range(count)]
    offsets = [int(round(k * window_hops / count)) for k in range(count)] if windows else [0]
    pending = np.zeros(0, np.float32)
    # With windows, the recording is preceded by half a clip length of silence and followed by a
    # whole one, so that a word at either end (or a file shorter than a clip) is heard in full,
    # in the middle of some window as in training. Times stay the recording's own.
    lead = np.zeros(window_hops * hop // 2 // hop * hop if windows else 0, np.float32)
    flush = np.zeros(window_hops * hop if windows else 0, np.float32)
    done = -len(lead)
    for block in itertools.chain([lead], wav_blocks(path, sample_rate), [flush]):
        pending = np.concatenate([pending, block])
        usable = len(pending) // hop * hop
        for start in range(0, usable, hop):
            chunk = pending[None, start:start + hop]
            index = (done + len(lead)) // hop
            done += hop
            for k in range(count):
                if not windows:
                    logits, states[k] = step_fn(chunk, states[k])
                    yield done / sample_rate, softmax(np.asarray(logits[0], np.float64))
                    continue
                if index < offsets[k]:
                    continue
                age = (index - offsets[k]) % window_hops
                if age == 0:  # a new window: zeros, but the signal's running states go on
                    states[k] = {**step_fn.zero_state(), **{n: states[k][n] for n in step_fn.running}}
                logits, states[k] = step_fn(chunk, states[k])
                if age == window_hops - 1:
                    yield done / sample_rate, softmax(np.asarray(logits[0], np.float64))
        pending = pending[usable:]


def _scores(step_fn, path, sample_rate: int, settings: DetectorSettings, clip_hops: int):
    """(detector, probability stream) for `settings`: continuous, or `settings.windows` staggered windows."""
    hop_seconds = step_fn.hop / sample_rate
    if settings.windows:
        hop_seconds *= clip_hops / settings.windows
    det = Detector([], hop_seconds, settings.window_seconds, settings.threshold, settings.suppress_seconds,
                   settings.min_hops)
    return det, hop_probabilities(step_fn, path, sample_rate, settings.windows, clip_hops)


def listen(step_fn, labels, path, sample_rate: int, settings: DetectorSettings, clip_hops: int = 0):
    """Yields keyword events (time, keyword, score) found in a wav of any length.

    `clip_hops` is the model's clip length in hops (needed with `settings.windows`).
    """
    det, stream = _scores(step_fn, path, sample_rate, settings, clip_hops)
    det.set_labels(labels)
    for time, probs in stream:
        event = det.update(probs, time)
        if event:
            yield event


def smoothed_tops(step_fn, labels, path, sample_rate: int, settings: DetectorSettings, clip_hops: int = 0):
    """(times, top class, top smoothed score) per score: what every threshold's detector decides from."""
    det, stream = _scores(step_fn, path, sample_rate, settings, clip_hops)
    det.set_labels(labels)
    times, tops, scores = [], [], []
    for time, probs in stream:
        mean = det.smooth(probs)
        if mean is not None:
            top = int(np.argmax(mean))
            times.append(time)
            tops.append(top)
            scores.append(float(mean[top]))
    return np.array(times), np.array(tops, np.int64), np.array(scores)


def events_at(labels, tops, times, scores, threshold: float, settings: DetectorSettings) -> list[dict]:
    """The events a detector with `threshold` reports, from `smoothed_tops`' arrays."""
    det = Detector(labels, 1.0, 1.0, threshold, settings.suppress_seconds, 1)
    return [e for t, k, s in zip(times, tops, scores) if (e := det.decide(int(k), float(s), float(t)))]


def score_events(events: list[dict], truth: list[dict], seconds: float, tolerance: float = 1.0) -> dict:
    """Recall and false alarms per hour of detected events against ground-truth keyword events.

    A detection matches a true event of the same keyword when its time lies
    between the event's start and `tolerance` seconds after its end; each true
    event and each detection matches at most once. Every unmatched detection
    is a false alarm, and is counted by kind as TensorFlow's `test_streaming_accuracy`
    counts them: `wrong` (within a true event's span, from its start to `tolerance` after
    its end, naming another keyword), `repeats` (within the span of an event of the same
    keyword, already matched) and `in_noise` (within no event's span; TensorFlow's false
    positives), with `noise_false_alarms_per_hour` for the last.

    Example:
        >>> truth = [{"start": 1.0, "end": 1.5, "keyword": "yes"}, {"start": 5.0, "end": 5.4, "keyword": "no"}]
        >>> found = [{"time": 1.6, "keyword": "yes"}, {"time": 1.9, "keyword": "yes"}, {"time": 5.2, "keyword": "yes"}]
        >>> r = score_events(found, truth, seconds=3600)
        >>> r["hits"], r["recall"], r["false_alarms"], r["repeats"], r["wrong"], r["in_noise"]
        (1, 0.5, 2, 1, 1, 0)
    """
    used = [False] * len(truth)
    hits = 0
    # Only events starting within the longest event (plus tolerance) before a detection can match it.
    order = sorted(range(len(truth)), key=lambda i: truth[i]["start"])
    starts = [truth[i]["start"] for i in order]
    reach = max((t["end"] - t["start"] for t in truth), default=0.0) + tolerance
    kinds = {"wrong": 0, "repeats": 0, "in_noise": 0}
    for event in sorted(events, key=lambda e: e["time"]):
        lo, hi = bisect.bisect_left(starts, event["time"] - reach), bisect.bisect_right(starts, event["time"])
        # the true events whose span holds the detection, in the list's order, as a plain scan would meet them
        spans = [i for i in sorted(order[lo:hi]) if event["time"] <= truth[i]["end"] + tolerance]
        match = next((i for i in spans if not used[i] and truth[i]["keyword"] == event["keyword"]), None)
        if match is not None:
            used[match] = True
            hits += 1
        elif not spans:
            kinds["in_noise"] += 1
        elif any(truth[i]["keyword"] == event["keyword"] for i in spans):
            kinds["repeats"] += 1
        else:
            kinds["wrong"] += 1
    false_alarms = len(events) - hits
    return {"events": len(truth), "detections": len(events), "hits": hits,
            "recall": round(hits / len(truth), 4) if truth else 0.0, "false_alarms": false_alarms,
            "false_alarms_per_hour": round(false_alarms * 3600.0 / seconds, 3), **kinds,
            "noise_false_alarms_per_hour": round(kinds["in_noise"] * 3600.0 / seconds, 3)}
