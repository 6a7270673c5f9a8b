"""Generation: sample text one character at a time, the recurrent state carried from step to step.

Example:
    >>> import numpy as np
    >>> from zoo.text.corpus import Vocabulary
    >>> vocab = Vocabulary(list("ab"))
    >>> always_b = lambda ids, state: (np.array([[0.0, 0.0, 9.0]]), state)
    >>> Generator(always_b, vocab, state_width=4).generate("a", length=3, temperature=0)
    'bbb'
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core import litert
from zoo.core.load import serving_signature
from zoo.families.chargen.model import parts, step_function
from zoo.text.corpus import Vocabulary


def sample_id(logits: np.ndarray, rng: np.random.Generator, temperature: float, top_k: int) -> int:
    """One id from `logits`: greedy at temperature 0, else softmax(logits / T) over the top k."""
    logits = np.asarray(logits, np.float64)
    if temperature <= 0:
        return int(np.argmax(logits))
    z = logits / temperature
    if 0 < top_k < len(z):
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    p = np.exp(z - z.max())
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(z) - 1))


class Generator:
    """Samples text one character at a time from any step function with the same signature.

    `zoo.load(PATH)` on a text model returns one (from a run, a SavedModel or a
    LiteRT file); `generate` and `stream` are its verbs.
    """

    def __init__(self, step, vocab: Vocabulary, state_width: int):
        self.step = step          # (ids int32 [1], state float32 [1, S]) -> (logits [1, V], state)
        self.vocab = vocab
        self.state_width = state_width

    @classmethod
    def from_keras(cls, model, vocab: Vocabulary) -> Generator:
        fn = tf.function(step_function(model))
        width = parts(model)[1].state_size

        def step(ids, state):
            logits, state = fn(tf.constant(ids), tf.constant(state))
            return logits.numpy(), state.numpy()

        return cls(step, vocab, width)

    @classmethod
    def from_litert(cls, path: Path, meta: dict) -> Generator:
        runner = litert.open_interpreter(path).get_signature_runner()

        def step(ids, state):
            out = runner(ids=ids, state=state)
            return out["logits"], out["state"]

        return cls(step, Vocabulary.from_json(meta["vocabulary"]), meta["state_size"])

    @classmethod
    def from_savedmodel(cls, path: Path, meta: dict) -> Generator:
        fn = serving_signature(path)

        def step(ids, state):
            out = fn(ids=tf.constant(ids), state=tf.constant(state))
            return out["logits"].numpy(), out["state"].numpy()

        return cls(step, Vocabulary.from_json(meta["vocabulary"]), meta["state_size"])

    def chars_per_s(self, count: int, warmup: int = 0) -> float:
        """Generation speed: characters per second over `count` steps (after `warmup` steps)."""
        if warmup:
            list(self.stream("\n", warmup, seed=1))
        start = time.perf_counter()
        n = sum(1 for _ in self.stream("\n", count, seed=1 if not warmup else 2))
        return round(n / (time.perf_counter() - start), 1)

    def generate(self, prime: str = "\n", length: int = 500, temperature: float = 1.0, top_k: int = 0,
                 seed: int = 0) -> str:
        """The `length` characters that follow `prime` (temperature 0 is greedy; same seed, same text)."""
        return "".join(self.stream(prime, length, temperature, top_k, seed))

    def stream(self, prime: str = "\n", length: int = 500, temperature: float = 1.0, top_k: int = 0,
               seed: int = 0):
        """Yields `length` generated characters after reading `prime` (state carried throughout)."""
        rng = np.random.default_rng(seed)
        state = np.zeros((1, self.state_width), np.float32)
        ids = self.vocab.encode(prime or "\n")
        logits = None
        for i in ids:
            logits, state = self.step(np.array([i], np.int32), state)
        for _ in range(length):
            nxt = sample_id(np.asarray(logits)[0], rng, temperature, top_k)
            yield self.vocab.decode([nxt])
            logits, state = self.step(np.array([nxt], np.int32), state)


def open_generator(run) -> Generator:
    """The generator of a loaded model (`zoo.core.load.Loaded`): a run, a SavedModel or a LiteRT file."""
    if run.kind == "keras":
        return Generator.from_keras(run.model, run.run_meta)
    if run.kind == "tflite":
        return Generator.from_litert(run.path, run.meta)
    return Generator.from_savedmodel(run.path, run.meta)
