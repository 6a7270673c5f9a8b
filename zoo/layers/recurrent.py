"""The cell factory: every recurrent model chooses `rnn`, `lstm` or `gru` by name.

Example:
    >>> recurrent_layer("lstm", 4).__class__.__name__
    'LSTM'
"""

from __future__ import annotations

import keras

CELLS = ("rnn", "lstm", "gru")


def recurrent_layer(cell: str, units: int, return_sequences: bool = True, unroll: bool = False,
                    name: str | None = None) -> keras.layers.Layer:
    """A Keras recurrent layer for `cell`.

    Args:
        cell: `rnn` (Elman, tanh), `lstm` or `gru`.
        units: state size.
        return_sequences: output every step (True) or the last one.
        unroll: unroll the time loop (no WHILE op in LiteRT).
        name: layer name.
    """
    layer_cls = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
    if cell not in layer_cls:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return layer_cls[cell](units, return_sequences=return_sequences, unroll=unroll, name=name)
