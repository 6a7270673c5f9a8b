"""Parameter arithmetic of recurrent layers, without building them (so listing recipes needs no TensorFlow).

Example:
    >>> recurrent_params("gru", 40, 64), recurrent_params("lstm", 8, 4, bidirectional=True)
    (20352, 416)
"""

from __future__ import annotations


def recurrent_params(cell: str, input_dim: int, units: int, bidirectional: bool = False) -> int:
    """Weights of one Keras recurrent layer (GRU with `reset_after`, the Keras default)."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    biases = 2 if cell == "gru" else 1
    return (2 if bidirectional else 1) * gates * units * (input_dim + units + biases)
