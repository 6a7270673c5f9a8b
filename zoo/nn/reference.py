"""Reference cells: one step of `rnn`, `lstm` and `gru` as the textbook equations, in NumPy.

Ground truth for the tests: the Keras layers, `zoo.nn.recurrent`'s stepping and
gate taps, and every family's LiteRT step models are held to these within 1e-5.
Weights come from a trained Keras layer; Keras stores each cell's gates side
by side in one kernel (LSTM: i, f, g, o; GRU: z, r, h), so a gate's weights are
a slice of `units` columns.

    plain RNN (Elman):  h' = tanh(x Wx + h Wh + b)
    LSTM:  i = s(x Wi + h Ui + bi)   input gate
           f = s(x Wf + h Uf + bf)   forget gate
           g = tanh(x Wg + h Ug + bg) candidate
           o = s(x Wo + h Uo + bo)   output gate
           c' = f*c + i*g,  h' = o*tanh(c')
    GRU:   z = s(x Wz + h Uz + b)    update gate
           r = s(x Wr + h Ur + b)    reset gate
           reset_after=True (Keras, CuDNN):   h~ = tanh(x Wh + bh + r*(h Uh + b'h))
           reset_after=False (Cho et al.):    h~ = tanh(x Wh + (r*h) Uh + bh)
           h' = z*h + (1-z)*h~

Example:
    >>> import keras
    >>> layer = keras.layers.GRU(3, return_sequences=True)
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    >>> keras_output = layer(x)  # builds the layer: its weights are random
    >>> bool(np.allclose(run_layer(layer, x), keras_output, atol=1e-5))
    True
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclasses.dataclass
class ReferenceCell:
    """One cell's weights, split per gate, and its step function.

    Attributes:
        kind: `rnn`, `lstm` or `gru`.
        W: input weights per gate, each [input, units].
        U: recurrent weights per gate, each [units, units].
        b: input biases per gate, each [units] (zeros if the layer has none).
        b_rec: the GRU's recurrent biases per gate (`reset_after`), else zeros.
        reset_after: the GRU convention.
    """

    kind: str
    W: dict
    U: dict
    b: dict
    b_rec: dict
    reset_after: bool = True

    GATE_ORDER = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("z", "r", "h")}

    @classmethod
    def from_keras(cls, cell) -> ReferenceCell:
        """From a Keras `SimpleRNNCell`, `LSTMCell` or `GRUCell` (or a layer holding one)."""
        if isinstance(cell, keras.layers.RNN):
            cell = cell.cell
        kinds = {"rnn": keras.layers.SimpleRNNCell, "lstm": keras.layers.LSTMCell, "gru": keras.layers.GRUCell}
        kind = next(k for k, cls in kinds.items() if isinstance(cell, cls))
        units = cell.units
        order = cls.GATE_ORDER[kind]
        kernel, recurrent = np.asarray(cell.kernel, np.float64), np.asarray(cell.recurrent_kernel, np.float64)
        bias = np.asarray(cell.bias, np.float64) if cell.use_bias else np.zeros(len(order) * units)
        reset_after = bool(getattr(cell, "reset_after", True))
        b_in, b_rec = (bias[0], bias[1]) if kind == "gru" and reset_after and bias.ndim == 2 else (
            bias, np.zeros_like(bias))

        def gates(m):
            return {g: m[..., k * units:(k + 1) * units] for k, g in enumerate(order)}

        return cls(kind, gates(kernel), gates(recurrent), gates(b_in), gates(b_rec), reset_after)

    def zero_state(self, batch: int) -> tuple:
        n = self.U[self.GATE_ORDER[self.kind][0]].shape[0]
        zeros = np.zeros((batch, n))
        return (zeros, zeros.copy()) if self.kind == "lstm" else (zeros,)

    def step(self, x, state) -> tuple[tuple, dict]:
        """One step: (x [B, input], state) -> (new state, gates), gates named as `zoo.nn.recurrent.GATES`."""
        W, U, b = self.W, self.U, self.b
        h = state[0]
        if self.kind == "rnn":
            h_new = np.tanh(x @ W["h"] + h @ U["h"] + b["h"])
            return (h_new,), {"h": h_new}
        if self.kind == "lstm":
            c = state[1]
            i = sigmoid(x @ W["i"] + h @ U["i"] + b["i"])
            f = sigmoid(x @ W["f"] + h @ U["f"] + b["f"])
            g = np.tanh(x @ W["g"] + h @ U["g"] + b["g"])
            o = sigmoid(x @ W["o"] + h @ U["o"] + b["o"])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
            return (h_new, c_new), {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}
        br = self.b_rec
        z = sigmoid(x @ W["z"] + b["z"] + h @ U["z"] + br["z"])
        r = sigmoid(x @ W["r"] + b["r"] + h @ U["r"] + br["r"])
        if self.reset_after:
            candidate = np.tanh(x @ W["h"] + b["h"] + r * (h @ U["h"] + br["h"]))
        else:
            candidate = np.tanh(x @ W["h"] + (r * h) @ U["h"] + b["h"])
        h_new = z * h + (1.0 - z) * candidate
        return (h_new,), {"z": z, "r": r, "candidate": candidate, "h": h_new}


def run(cell: ReferenceCell, x, reverse: bool = False, state=None) -> tuple[dict, tuple]:
    """Runs a cell over x [B, T, D]; returns (gates as [B, T, units] in time order, final state)."""
    x = np.asarray(x, np.float64)
    state = state if state is not None else cell.zero_state(x.shape[0])
    series = {}
    for t in (range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])):
        state, gates = cell.step(x[:, t], state)
        for name, value in gates.items():
            series.setdefault(name, [None] * x.shape[1])[t] = value
    return {name: np.stack(v, axis=1) for name, v in series.items()}, state


def run_layer(layer, x) -> np.ndarray:
    """What a Keras recurrent layer (SimpleRNN/LSTM/GRU or Bidirectional of one) returns for x [B, T, D]."""
    if isinstance(layer, keras.layers.Bidirectional):
        parts = [(layer.forward_layer, True), (layer.backward_layer, True)]
    else:
        parts = [(layer, False)]
    outputs = []
    for sub, merged in parts:
        gates, _ = run(ReferenceCell.from_keras(sub.cell), x, reverse=sub.go_backwards)
        h = gates["h"]
        if not sub.return_sequences:
            outputs.append(h[:, 0] if sub.go_backwards else h[:, -1])
        else:  # alone, a go_backwards layer returns its outputs last step first
            outputs.append(h[:, ::-1] if sub.go_backwards and not merged else h)
    return np.concatenate(outputs, axis=-1)


def run_stack(layers, x) -> np.ndarray:
    """Recurrent layers applied in turn (nothing between them), as the reference computes them."""
    for layer in layers:
        x = run_layer(layer, x)
    return x
