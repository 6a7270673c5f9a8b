"""Keyword inference: `zoo.load(PATH)` on a keyword model returns a `KeywordModel`.

Example:
    >>> import numpy as np
    >>> meta = {"labels": ["no", "yes"], "sample_rate": 8000, "clip_seconds": 0.5}
    >>> spotter = KeywordModel(lambda batch: np.tile([[0.0, 1.0]], (len(batch), 1)), meta, "demo")
    >>> spotter.predict(np.zeros(3000, "float32"), top_k=1)
    [{'index': 0, 'top': [{'label': 'yes', 'score': 0.7311}]}]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from zoo.audio.decode import fit_length, read_clip
from zoo.core.errors import ZooError
from zoo.core.load import check_labels
from zoo.families.kws.listen import DetectorSettings, listen


def prepare_clip(path, sample_rate: int, samples: int) -> np.ndarray:
    """A wav decoded to `sample_rate` and fitted to `samples`, as the training pipeline does (centred if
    shorter, its loudest window if longer), read in blocks so a recording of any length fits in memory."""
    return read_clip(path, sample_rate, samples)


def expand_inputs(items) -> list[Path]:
    """Files as given; folders become their `*.wav` files (recursively, sorted)."""
    files = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.suffix.lower() == ".wav")
            if not found:
                raise ZooError(f"{item}: folder has no .wav files")
            files.extend(found)
        else:
            files.append(item)
    return files


class KeywordModel:
    """A keyword spotter: wav files or waveforms in, labels and scores out.

    Args:
        logits: float32 audio [B, samples] -> logits [B, labels].
        meta: the export sidecar: `labels`, `sample_rate`, `clip_seconds`.
        source: what was loaded (for messages).
        step: for causal models, a function that returns the streaming step function
            (`zoo.families.kws.stream.LiteStep`'s contract), made on first use; None if the model
            cannot stream.
    """

    def __init__(self, logits: Callable[[np.ndarray], np.ndarray], meta: dict, source, step=None):
        self.logits = logits
        self._make_step, self._step = step, None
        self.meta = meta
        self.source = source
        self.labels = list(meta["labels"])
        self.sample_rate = int(meta["sample_rate"])
        self.samples = int(round(self.sample_rate * meta["clip_seconds"]))

    def prepare(self, path) -> np.ndarray:
        """A wav decoded to the model's rate and length, as the training pipeline does."""
        return prepare_clip(path, self.sample_rate, self.samples)

    def scores(self, clip: np.ndarray, top_k: int = 3) -> list[dict]:
        logits = self.logits(clip[None].astype(np.float32))[0]
        check_labels(self.source, len(logits), self.labels)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return [{"label": self.labels[i], "score": round(float(probs[i]), 4)} for i in np.argsort(-probs)[:top_k]]

    def predict(self, inputs, top_k: int = 3) -> list[dict]:
        """Top-k labels for each input.

        Args:
            inputs: a wav path, a folder of wavs, a list of those, or waveforms at
                `sample_rate` (one 1-D array, or a list or 2-D array of them).
            top_k: labels to return per input.

        Returns:
            One dict per input: `file` (a path) or `index` (a waveform's position), and `top`
            (label/score pairs, best first). A bad file raises `ZooError`.
        """
        if isinstance(inputs, np.ndarray) and inputs.ndim == 1:
            inputs = [inputs]
        items = inputs if isinstance(inputs, (list, tuple, np.ndarray)) else [inputs]
        results = []
        for k, item in enumerate(items):
            if isinstance(item, np.ndarray):
                results.append({"index": k, "top": self.scores(fit_length(item, self.samples), top_k)})
            else:
                for path in expand_inputs([item]):
                    results.append({"file": str(path), "top": self.scores(self.prepare(path), top_k)})
        return results

    def step_function(self):
        """The streaming step function (converted once); a one-line error for a model that cannot stream."""
        if self._make_step is None:
            raise ZooError(f"{self.source}: not a streaming model (a causal `u` recipe's run, or an export "
                           "made with zoo export RUN --streaming)")
        if self._step is None:
            self._step = self._make_step()
        return self._step

    def clip_hops(self, step) -> int:
        """Hops of `step` in one clip of the model's length (after the first `prime` samples)."""
        return (self.samples - step.prime) // step.hop

    def listen(self, items, **settings):
        """Keyword events in recordings of any length and sample rate, found hop by hop in bounded memory.

        Args:
            items: wav paths or folders of wavs.
            **settings: `DetectorSettings` fields: `threshold`, `window_seconds`,
                `suppress_seconds`, `min_hops`, `windows`.

        Yields:
            `{"file", "time", "keyword", "score"}` per event (time in seconds from the
            start), or `{"file", "error"}` for a file that cannot be read.
        """
        step = self.step_function()
        settings = DetectorSettings(**settings)
        for path in expand_inputs(items):
            try:
                for event in listen(step, self.labels, path, self.sample_rate, settings, self.clip_hops(step)):
                    yield {"file": str(path), **event}
            except ZooError as e:
                yield {"file": str(path), "error": str(e)}

    @staticmethod
    def describe(result: dict) -> str:
        """One line for `zoo predict`: the file and its top labels with their scores."""
        return f"{result['file']}: " + "  ".join(f"{p['label']} {p['score']:.3f}" for p in result["top"])

    def predict_files(self, items, top_k: int = 3):
        """Yields a result per wav of `items` (files or folders), or `{"file", "error"}` for a bad file."""
        for path in expand_inputs(items):
            try:
                yield {"file": str(path), "top": self.scores(self.prepare(path), top_k)}
            except ZooError as e:
                yield {"file": str(path), "error": str(e)}
