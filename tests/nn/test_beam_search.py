"""Greedy and beam-search decoding: beam 1 is greedy, a wide beam is exhaustive search, batches are independent."""

import itertools

import numpy as np
import pytest

from zoo.nn.decode import _log_softmax, beam_search, greedy

V, EOS, BOS, LENGTH = 4, 0, 0, 3


def _model(seed):
    """A small stateful step function: logits depend on the token and on a state that the tokens update."""
    rng = np.random.default_rng(seed)
    table, mix, embed = rng.normal(0, 1.5, (V, V)), rng.normal(0, 1.0, (2, V)), rng.normal(0, 1.0, (V, 2))

    def step(tokens, state):
        (h,) = state
        return table[tokens] + h @ mix, [np.tanh(h + embed[tokens])]

    return step


def _score(step, start, sequence, with_eos):
    state, token, total = [start[None]], BOS, 0.0
    for nxt in sequence + ([EOS] if with_eos else []):
        logits, state = step(np.array([token]), state)
        total += _log_softmax(logits)[0, nxt]
        token = nxt
    return total


def _exhaustive(step, start, length_penalty):
    """Every sequence of up to LENGTH tokens: shorter ones end with EOS, full-length ones stop there."""
    best = None
    for n in range(LENGTH + 1):
        for seq in itertools.product(range(1, V), repeat=n):
            value = _score(step, start, list(seq), with_eos=n < LENGTH) / max(n, 1) ** length_penalty
            if best is None or value > best[0]:
                best = (value, list(seq))
    return best[1]


@pytest.mark.parametrize("seed", range(6))
def test_beam_of_one_is_greedy_and_a_wide_beam_is_exhaustive(seed):
    step = _model(seed)
    starts = np.random.default_rng(100 + seed).normal(size=(5, 2))
    assert beam_search(step, [starts], BOS, EOS, LENGTH, beam=1) == greedy(step, [starts], BOS, EOS, LENGTH)
    for penalty in (0.0, 1.0):
        wide = beam_search(step, [starts], BOS, EOS, LENGTH, beam=200, length_penalty=penalty)
        assert wide == [_exhaustive(step, s, penalty) for s in starts]


def test_batched_equals_one_by_one_and_beam_never_loses_to_greedy():
    step = _model(7)
    starts = np.random.default_rng(8).normal(size=(6, 2))
    batched = beam_search(step, [starts], BOS, EOS, LENGTH, beam=3, length_penalty=0.0)
    assert batched == [beam_search(step, [s[None]], BOS, EOS, LENGTH, beam=3, length_penalty=0.0)[0] for s in starts]
    for s, seq, g in zip(starts, batched, greedy(step, [starts], BOS, EOS, LENGTH)):
        assert _score(step, s, seq, len(seq) < LENGTH) >= _score(step, s, g, len(g) < LENGTH) - 1e-9
