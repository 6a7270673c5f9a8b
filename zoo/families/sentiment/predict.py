"""Sentiment inference: `zoo.load(PATH)` on a sentiment model returns a `TextClassifier`.

The tokenizer is the training one (`zoo.text.words.tokenize`, tensorflow-text)
with the run's vocabulary, which every export carries in its sidecar.

Example:
    >>> import numpy as np
    >>> meta = {"labels": ["negative", "positive"], "vocabulary": {"words": ["<pad>", "<bos>", "<eos>", "<unk>",
    ...         "great"]}, "max_tokens": 8}
    >>> clf = TextClassifier(lambda ids: np.stack([np.zeros(len(ids)), (ids == 4).sum(1)], 1), meta, "demo")
    >>> clf.predict(["A great, great film"])[0]["label"]
    'positive'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.load import check_labels, output_function
from zoo.families.sentiment.data import encode
from zoo.families.sentiment.sources import read_lines
from zoo.text.subwords import vocabulary_from_json


class TextClassifier:
    """A sentiment model: texts in, labels and probabilities out.

    Args:
        logits: int32 ids [B, max_tokens] -> logits [B, labels].
        meta: the export sidecar: `labels`, `vocabulary`, `max_tokens`.
        source: what was loaded (for messages).
    """

    def __init__(self, logits: Callable[[np.ndarray], np.ndarray], meta: dict, source):
        self.logits, self.meta, self.source = logits, meta, source
        self.labels = list(meta["labels"])
        self.vocab = vocabulary_from_json(meta["vocabulary"])
        self.max_tokens = int(meta["max_tokens"])

    def probabilities(self, texts) -> np.ndarray:
        logits = np.asarray(self.logits(encode(self.vocab, list(texts), self.max_tokens)), np.float64)
        check_labels(self.source, logits.shape[-1], self.labels)
        z = np.exp(logits - logits.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True)

    def predict(self, texts) -> list[dict]:
        """The label, its probability, and every label's probability, per text (a string or a list)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            return []
        return [{"text": text, "label": self.labels[int(p.argmax())], "score": round(float(p.max()), 4),
                 "scores": {label: round(float(v), 4) for label, v in zip(self.labels, p)}}
                for text, p in zip(texts, self.probabilities(texts))]

    def predict_files(self, items, top_k: int = 1):
        """Yields a result per non-empty line of each text file, or `{"file", "error"}` for a file that cannot
        be read and for each line that is not UTF-8 (`top_k` is unused: every label's probability is given)."""
        for path in map(Path, items):
            try:
                if not path.is_file():
                    raise ZooError(f"{path}: no such text file")
                skipped = []
                lines = [(n, line.strip()) for n, line in read_lines(path, "utf-8", skipped) if line.strip()]
                for line_and_cause in skipped:  # "FILE:LINE: not utf-8"
                    yield {"file": str(path), "error": line_and_cause}
                for (number, _), result in zip(lines, self.predict([line for _, line in lines])):
                    yield {"file": str(path), "line": number, **result}
            except ZooError as e:
                yield {"file": str(path), "error": str(e)}

    @staticmethod
    def describe(result: dict) -> str:
        """One line for `zoo predict`: where the text came from, the label and its probability, the text."""
        where = f"{result['file']}:{result['line']}: " if "file" in result else ""
        return f"{where}{result['label']} {result['score']:.3f}  {result['text']}"


def open_classifier(run) -> TextClassifier:
    """The `TextClassifier` of a loaded run, SavedModel or LiteRT file (`zoo.core.load.Loaded`)."""
    return TextClassifier(output_function(run.kind, run.path, run.model), run.meta, run.path)  # `encode` gives int32
