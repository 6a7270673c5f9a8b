"""Text corpora, character vocabularies and next-character windows.

Corpora: any UTF-8 file or folder (`text`), Tiny Shakespeare (`shakespeare`,
a local copy or a checked download) and `pydocs`, the English prose of
Python's own reference documentation (`pydoc_data.topics`, shipped with every
CPython: the offline default). Splits are in order, as char-rnn and nanoGPT
make them: the first 90 % trains, the rest validates.

Example:
    >>> vocab = Vocabulary.from_text("hello")
    >>> vocab.chars, vocab.encode("hex").tolist(), vocab.decode([4, 3, 2])
    (['e', 'h', 'l', 'o'], [2, 1, 0], 'olh')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.core import runs
from zoo.core.download import fetch
from zoo.core.errors import ZooError

# The file char-rnn and nanoGPT train on; the md5 is the one everybody quotes.
SHAKESPEARE = {
    "url": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    "md5": "6fb458f1232090904fb40fe944165e91",
    "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "bytes": 1115394,
}
UNKNOWN_CHAR = "\ufffd"  # what the unknown id decodes to


def refuse_binary(path: Path, data: bytes, encoding: str) -> None:
    """A one-line error if `data` (a file's bytes) holds NUL bytes, which no text in a one-byte or UTF-8
    encoding does: an image or an archive given as text."""
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
    if not wide and b"\x00" in data[:1 << 16]:
        raise ZooError(f"{path}: a binary file, not text (it holds NUL bytes)")


def decode_file(path: Path, encoding: str = "utf-8") -> str:
    """A file's text; undecodable bytes raise a one-line error with the byte offset, and so do a binary
    file and one with no text."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ZooError(f"{path}: cannot read ({e.strerror or e})") from None
    refuse_binary(path, data, encoding)
    if not data.strip():
        raise ZooError(f"{path}: empty file (no text)")
    try:
        return data.decode(encoding)
    except LookupError:
        raise ZooError(f"data.encoding={encoding!r}: unknown encoding") from None
    except UnicodeDecodeError as e:
        raise ZooError(f"{path}: not valid {encoding} at byte {e.start} ({e.reason}); "
                       f"set data.encoding to the file's encoding, e.g. --set data.encoding='latin-1'") from None


def read_corpus(path: Path, encoding: str = "utf-8") -> tuple[str, list[str]]:
    """A file's text, or a folder's files (sorted, recursive, hidden ones left out) joined by newlines.

    In a folder an undecodable file is skipped and listed; returns (text, skipped).
    """
    path = Path(path)
    if path.is_file():
        return decode_file(path, encoding), []
    if not path.is_dir():
        raise ZooError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(path).parts))
    texts, skipped = [], []
    for f in files:
        try:
            texts.append(decode_file(f, encoding))
        except ZooError as e:
            skipped.append(str(e))
    if not texts:
        raise ZooError(f"{path}: no readable {encoding} text files" + (f" ({skipped[0]})" if skipped else ""))
    return "\n".join(texts), skipped


def pydocs_text() -> str:
    """Python's reference-documentation topics (about 465,000 characters), in a fixed order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics))


def shakespeare_path(path: str, data_root: Path) -> Path:
    """A local Tiny Shakespeare, or the cached (downloaded, checked) one under `data_root`."""

    if path:
        return Path(path)
    return fetch(SHAKESPEARE["url"], Path(data_root) / "shakespeare" / "input.txt", SHAKESPEARE["sha256"])


def split(text: str, validation_fraction: float) -> tuple[str, str]:
    """The first part trains, the last `validation_fraction` validates (in order)."""
    cut = int(round(len(text) * (1.0 - validation_fraction)))
    return text[:cut], text[cut:]


def codepoints(text: str) -> np.ndarray:
    """Unicode code points of `text` through tensorflow-text (int32)."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    return tf_text.UnicodeCharTokenizer().tokenize(tf.constant(text)).numpy().astype(np.int32)


@dataclass(frozen=True)
class Vocabulary:
    """Characters seen in training; id 0 is the unknown character, then chars in code-point order."""

    chars: list

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls([chr(c) for c in np.unique(codepoints(text))])

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> np.ndarray:
        """Ids of `text` (int32); characters outside the vocabulary get id 0."""
        points = codepoints(text)
        table = np.array([ord(c) for c in self.chars], np.int32)
        at = np.searchsorted(table, points).clip(0, max(len(table) - 1, 0))
        known = table[at] == points if len(table) else np.zeros(len(points), bool)
        return np.where(known, at + 1, 0).astype(np.int32)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of `text` that are not in the vocabulary."""
        known = set(self.chars)
        return sorted({c for c in text if c not in known})

    def decode(self, ids) -> str:
        return "".join(self.chars[i - 1] if 0 < i <= len(self.chars) else UNKNOWN_CHAR for i in ids)

    def to_json(self) -> dict:
        return {"chars": self.chars, "unknown_id": 0, "size": len(self)}

    @classmethod
    def from_json(cls, d: dict) -> Vocabulary:
        return cls(list(d["chars"]))

    def save(self, path: Path) -> None:

        runs.write_json(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise ZooError(f"{path}: not a vocabulary file ({e})") from None


def random_windows(ids: np.ndarray, length: int, batch_size: int, count: int, seed: int):
    """tf.data of `count` batches of (x, y): windows at random offsets, y = x shifted by one.

    A new draw of offsets every epoch (nanoGPT's sampling; char-rnn's contiguous
    batches see the same windows each epoch).
    """
    import tensorflow as tf

    if len(ids) < length + 2:
        raise ZooError(f"training text has {len(ids)} characters; data.seq_len={length} needs at least {length + 2}")
    data = tf.constant(ids)
    starts = len(ids) - length - 1
    offsets = tf.range(length + 1, dtype=tf.int64)

    def windows(r):  # one gather per batch: [batch] random numbers -> [batch, length + 1] ids
        return tf.gather(data, tf.math.floormod(r, starts)[:, None] + offsets)

    return (tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
            .batch(batch_size, drop_remainder=True)
            .take(count)
            .map(windows)
            .map(lambda w: (w[:, :-1], w[:, 1:]))
            .prefetch(tf.data.AUTOTUNE))


def contiguous_windows(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows covering `ids` (the last partial one dropped): (x, y) [N, length]."""
    n = (len(ids) - 1) // length
    if n == 0:
        raise ZooError(f"text of {len(ids)} characters is shorter than one window of {length}")
    x = ids[:n * length].reshape(n, length)
    y = ids[1:n * length + 1].reshape(n, length)
    return x, y


def streams(ids: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` parallel contiguous streams (x, y) [count, len] covering `ids` for stateful scoring."""
    count = max(1, min(count, (len(ids) - 1) // 2))
    n = (len(ids) - 1) // count
    x = ids[:n * count].reshape(count, n)
    y = ids[1:n * count + 1].reshape(count, n)
    return x, y
