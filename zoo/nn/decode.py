"""Batched greedy and beam-search decoding over any step function with its state held outside.

A step function maps (tokens int32 [N], state) -> (logits [N, V], state), where
state is a list of arrays whose first axis is N: a Keras step model, a
SavedModel signature or a LiteRT step model all fit. Beam search keeps the `beam`
best prefixes per input, ranks finished sequences by their log-probability over
length ** `length_penalty` (0: no normalisation; 1: the mean per token), and
with `beam=1` is exactly greedy decoding.

Example:
    >>> table = np.log(np.array([[0.05, 0.55, 0.4],    # after BOS (token 0): 1 is likelier than 2
    ...                          [0.3, 0.4, 0.3],      # after 1: on and on
    ...                          [0.95, 0.03, 0.02]]))  # after 2: almost surely EOS (token 0)
    >>> step = lambda tokens, state: (table[tokens], state)
    >>> greedy(step, [np.zeros((1, 1))], bos=0, eos=0, max_length=3)[0]  # p = 0.55 * 0.4 * 0.4
    [1, 1, 1]
    >>> beam_search(step, [np.zeros((1, 1))], bos=0, eos=0, max_length=3, beam=2, length_penalty=0)[0]  # 0.4 * 0.95
    [2]
"""

from __future__ import annotations

import numpy as np


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def greedy(step, state, bos: int, eos: int, max_length: int) -> list[list[int]]:
    """The most likely next token at every step, for each input; sequences end before `eos`.

    Args:
        step: (tokens [N], state) -> (logits [N, V], state).
        state: the initial state, a list of arrays with the batch on the first axis.
        bos, eos: the start and end tokens.
        max_length: most tokens per sequence (without `bos` and `eos`).
    """
    n = state[0].shape[0]
    tokens = np.full(n, bos, np.int32)
    out = [[] for _ in range(n)]
    done = np.zeros(n, bool)
    for _ in range(max_length):
        logits, state = step(tokens, state)
        tokens = np.asarray(logits).argmax(-1).astype(np.int32)
        for i in np.flatnonzero(~done):
            if tokens[i] == eos:
                done[i] = True
            else:
                out[i].append(int(tokens[i]))
        if done.all():
            break
    return out


def beam_search(step, state, bos: int, eos: int, max_length: int, beam: int = 4,
                length_penalty: float = 1.0) -> list[list[int]]:
    """The best sequence for each input by beam search (see the module docstring for the ranking).

    At every step the `beam` best extensions of the live prefixes are ranked; an
    end token among those `beam` finishes its prefix, and the `beam` best
    extensions that are not an end token stay live. An input is done once it
    has `beam` finished sequences; prefixes still live at `max_length` finish
    there. With `beam=1` this is greedy decoding.

    Args:
        step, state, bos, eos, max_length: as `greedy`.
        beam: prefixes kept per input.
        length_penalty: exponent of the length that divides a finished sequence's log-probability.
    """
    n = state[0].shape[0]
    state = [np.repeat(np.asarray(s), beam, axis=0) for s in state]  # row i * beam + k
    tokens = np.full(n * beam, bos, np.int32)
    scores = np.full((n, beam), -np.inf)
    scores[:, 0] = 0.0  # one live prefix to start with, so the first step picks no duplicates
    prefixes = [[[] for _ in range(beam)] for _ in range(n)]
    finished = [[] for _ in range(n)]  # (ranking score, sequence)
    done = np.zeros(n, bool)

    def rank(logp, length):
        return logp / max(length, 1) ** length_penalty

    for _ in range(max_length):
        logits, state = step(tokens, state)
        logp = _log_softmax(np.asarray(logits, np.float64)).reshape(n, beam, -1)
        vocab = logp.shape[-1]
        total = scores[:, :, None] + logp  # [n, beam, V]
        order = np.argsort(-total.reshape(n, -1), axis=1, kind="stable")[:, :2 * beam]
        new_scores = np.full((n, beam), -np.inf)
        new_prefixes = [[[] for _ in range(beam)] for _ in range(n)]
        source = np.zeros((n, beam), np.int64)
        new_tokens = np.full((n, beam), eos, np.int32)
        for i in np.flatnonzero(~done):
            live = 0
            for position, flat in enumerate(order[i]):
                b, token = divmod(int(flat), vocab)
                value = total[i, b, token]
                if not np.isfinite(value):
                    break  # sorted: the rest are impossible too
                if token == eos:
                    if position < beam:
                        finished[i].append((rank(value, len(prefixes[i][b])), prefixes[i][b]))
                elif live < beam:
                    new_scores[i, live], source[i, live], new_tokens[i, live] = value, b, token
                    new_prefixes[i][live] = prefixes[i][b] + [token]
                    live += 1
            done[i] = len(finished[i]) >= beam
        if done.all():
            break
        rows = (np.arange(n)[:, None] * beam + source).reshape(-1)
        state = [np.asarray(s)[rows] for s in state]
        scores, prefixes, tokens = new_scores, new_prefixes, new_tokens.reshape(-1)
    for i in np.flatnonzero(~done):  # prefixes still live at max_length end there
        finished[i].extend((rank(scores[i, k], len(prefixes[i][k])), prefixes[i][k])
                           for k in range(beam) if np.isfinite(scores[i, k]))
    return [max(f, key=lambda item: item[0])[1] if f else [] for f in finished]
