"""One recurrent core for every family: cells, stepping with a packed state, gate equations, gate taps.

- `recurrent_layer(cell, units)` makes the Keras layer of a recipe's `rnn`, `lstm` or `gru`.
- `recurrent_layers(model)` finds a trained model's recurrent layers through its
  structure (layer types), never by name.
- `Stack` steps a stack of unidirectional layers one input at a time with the state
  held outside, in one packed tensor (the layout is `Stack`'s docstring).
- `textbook_step` is one step of the textbook equations in TensorFlow ops, given the
  input projection; its `Hooks` see every intermediate value, so the int8 rebuild
  (which fake-quantizes them) and `tap_layer` (which records the gates) share it.
- `tap_layer` / `gate_taps` (and `gate_layers` / `tap_gate_layer`, which also reach a layer applied
  per item through TimeDistributed) run trained layers and return every gate's activation
  and the hidden (and cell) state at every time step.

Example:
    >>> import numpy as np
    >>> layer = recurrent_layer("lstm", 4)
    >>> y = layer(np.zeros((1, 3, 2), "float32"))
    >>> stack = Stack([layer])
    >>> stack.state_size, stack.layout
    (8, [('lstm', 'h', 4), ('lstm', 'c', 4)])
    >>> taps = tap_layer(layer, np.ones((1, 3, 2), "float32"))
    >>> sorted(taps.directions[0].gates), taps.directions[0].gates["f"].shape
    (['c', 'f', 'g', 'h', 'i', 'o'], (1, 3, 4))
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from zoo.nn.cells import CELLS

#: What each tapped value is, in the order a figure shows them.
GATES = {
    "rnn": {"h": "hidden state h = tanh(x W + h U + b): the plain RNN's only memory"},
    "lstm": {
        "i": "input gate: how much of the candidate g is written into the cell",
        "f": "forget gate: how much of the old cell state is kept",
        "g": "candidate: the new content, tanh of input and previous h",
        "o": "output gate: how much of tanh(c) is shown as h",
        "c": "cell state c = f*c + i*g: the long-term memory",
        "h": "hidden state h = o*tanh(c): the output",
    },
    "gru": {
        "z": "update gate: 1 keeps the old h, 0 takes the candidate",
        "r": "reset gate: how much of the old h the candidate reads",
        "candidate": "candidate h~ = tanh(x W + r*(h U)): the proposed new state",
        "h": "hidden state h = z*h + (1-z)*h~",
    },
}

_LAYERS = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
_CELLS = {"rnn": keras.layers.SimpleRNNCell, "lstm": keras.layers.LSTMCell, "gru": keras.layers.GRUCell}


def recurrent_layer(cell: str, units: int, return_sequences: bool = True, unroll: bool = False,
                    name: str | None = None, return_state: bool = False) -> keras.layers.Layer:
    """A Keras recurrent layer for `cell`.

    Args:
        cell: `rnn` (Elman, tanh), `lstm` or `gru`.
        units: state size.
        return_sequences: output every step (True) or the last one.
        unroll: unroll the time loop (no WHILE op in LiteRT).
        name: layer name.
        return_state: also return the final state (h, and c for an LSTM).
    """
    if cell not in _LAYERS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return _LAYERS[cell](units, return_sequences=return_sequences, return_state=return_state, unroll=unroll,
                         name=name)


def cell_kind(cell) -> str:
    """`rnn`, `lstm` or `gru` for a Keras cell (by type)."""
    for kind, cls in _CELLS.items():
        if isinstance(cell, cls):
            return kind
    raise ValueError(f"unsupported recurrent cell {type(cell).__name__}")


def state_parts(cell) -> list[str]:
    """The state a cell carries: `['h']`, or `['h', 'c']` for an LSTM."""
    return ["h", "c"] if cell_kind(cell) == "lstm" else ["h"]


def flat_layers(model) -> list:
    """The model's layers in order, with a nested model's (an ensemble's member's) in its place."""
    found = []
    for layer in model.layers:
        found += flat_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return found


def recurrent_layers(model) -> list:
    """The model's recurrent layers (RNN or Bidirectional), in order, found by type; those of nested
    models (an ensemble's members) in their place."""
    return [layer for layer in flat_layers(model) if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]


def directions(layer) -> list[tuple[keras.layers.RNN, bool]]:
    """(layer, reverse) for each direction of a recurrent layer: one, or two if bidirectional."""
    if isinstance(layer, keras.layers.Bidirectional):
        return [(layer.forward_layer, layer.forward_layer.go_backwards),
                (layer.backward_layer, layer.backward_layer.go_backwards)]
    return [(layer, layer.go_backwards)]


class Stack:
    """Steps a stack of trained unidirectional recurrent layers with one packed state.

    The packed state is a float32 tensor [batch, state_size]: for each layer in
    order, its hidden state h (`units` wide) and, for an LSTM, then its cell state
    c; `layout` lists the pieces. Zeros are the start state. The layers' own Keras
    cells do the work (shared weights), so a step traced by `tf.function` converts
    to builtins-only LiteRT with no loop.

    Args:
        layers: Keras recurrent layers (not bidirectional, not `go_backwards`),
            each reading the previous one's output.
    """

    def __init__(self, layers):
        for layer in layers:
            if isinstance(layer, keras.layers.Bidirectional) or getattr(layer, "go_backwards", False):
                raise ValueError(f"layer {layer.name}: a backward direction cannot be stepped one input at a time")
        self.cells = [layer.cell for layer in layers]
        self.layout = [(cell_kind(c), part, c.units) for c in self.cells for part in state_parts(c)]
        self._rnns = None

    @property
    def state_size(self) -> int:
        return sum(width for _, _, width in self.layout)

    def zero_state(self, batch: int = 1) -> np.ndarray:
        return np.zeros((batch, self.state_size), np.float32)

    def _unpack(self, state):
        from keras import ops

        widths = [width for _, _, width in self.layout]
        if len(widths) == 1:
            pieces = [state]
        elif len(set(widths)) == 1:
            pieces = ops.split(state, len(widths), axis=-1)
        else:
            pieces = ops.split(state, list(np.cumsum(widths)[:-1]), axis=-1)
        grouped, k = [], 0
        for cell in self.cells:
            n = len(state_parts(cell))
            grouped.append(list(pieces[k:k + n]))
            k += n
        return grouped

    @staticmethod
    def _pack(states):
        from keras import ops

        flat = [s for group in states for s in group]
        return ops.concatenate(flat, axis=-1) if len(flat) > 1 else flat[0]

    def step(self, x, state):
        """(x [B, D], state [B, S]) -> (output [B, units of the last layer], state [B, S])."""
        new = []
        for cell, states in zip(self.cells, self._unpack(state)):
            x, states = cell(x, states)
            new.append(list(states))
        return x, self._pack(new)

    def sequence(self, x, state):
        """(x [B, T, D], state [B, S]) -> (outputs [B, T, units], state): a window, state carried in and out."""
        if self._rnns is None:  # RNN wrappers that share the cells' weights
            self._rnns = [keras.layers.RNN(cell, return_sequences=True, return_state=True) for cell in self.cells]
        new = []
        for rnn, states in zip(self._rnns, self._unpack(state)):
            x, *states = rnn(x, initial_state=states)
            new.append(states)
        return x, self._pack(new)


class Hooks:
    """Sees every intermediate value of `textbook_step`; the default changes nothing.

    `act(tag, x)` is called on unbounded values (pre-activations, products, h);
    `bounded(tag, x, lo, hi)` on the outputs of sigmoid/tanh, whose range is known.
    Each returns the value to use in its place.
    """

    def act(self, tag: str, x):
        return x

    def bounded(self, tag: str, x, lo: float, hi: float):
        return x


def textbook_step(kind: str, xt, state, u, recurrent_bias=None, hooks: Hooks | None = None,
                  reset_after: bool = True):
    """One step of a recurrent cell from the textbook equations, in TensorFlow ops.

    Args:
        kind: `rnn`, `lstm` or `gru`.
        xt: the input projection x W + b of this step [B, gates * units] (Keras gate
            order: LSTM i, f, g(c), o; GRU z, r, h).
        state: (h,) or, for an LSTM, (h, c).
        u: the recurrent kernel [units, gates * units].
        recurrent_bias: the GRU's second bias (`reset_after`), or None.
        hooks: called on every intermediate value (tags `h`, `hu`, `pre`, `zpre`,
            `rpre`, `hpre`, `rh`, `keep`, `new` unbounded; gates `i f g o z r
            candidate 1-z` and the RNN's `h` bounded).
        reset_after: the GRU convention: True applies the reset gate after the
            recurrent matmul (Keras, CuDNN), False before it (Cho et al. 2014).

    Returns:
        The new state, (h,) or (h, c).
    """
    import tensorflow as tf

    hooks = hooks or Hooks()
    h = hooks.act("h", state[0])
    if kind == "gru" and not reset_after:
        n = u.shape[0]
        hu = hooks.act("hu", tf.matmul(h, u[:, :2 * n]))
        xz, xr, xh = tf.split(xt, 3, axis=-1)
        hz, hr = tf.split(hu, 2, axis=-1)
        z = hooks.bounded("z", tf.sigmoid(hooks.act("zpre", xz + hz)), 0.0, 1.0)
        r = hooks.bounded("r", tf.sigmoid(hooks.act("rpre", xr + hr)), 0.0, 1.0)
        rh = hooks.act("rh", tf.matmul(r * h, u[:, 2 * n:]))
        cand = hooks.bounded("candidate", tf.tanh(hooks.act("hpre", xh + rh)), -1.0, 1.0)
        return (hooks.act("h", z * h + (1.0 - z) * cand),)
    hu = tf.matmul(h, u)
    if recurrent_bias is not None:
        hu = hu + recurrent_bias
    hu = hooks.act("hu", hu)
    if kind == "rnn":
        return (hooks.bounded("h", tf.tanh(hooks.act("pre", xt + hu)), -1.0, 1.0),)
    if kind == "gru":  # one SPLIT per operand: fewer ops and tensors than three slices
        xz, xr, xh = tf.split(xt, 3, axis=-1)
        hz, hr, hh = tf.split(hu, 3, axis=-1)
        z = hooks.bounded("z", tf.sigmoid(hooks.act("zpre", xz + hz)), 0.0, 1.0)
        r = hooks.bounded("r", tf.sigmoid(hooks.act("rpre", xr + hr)), 0.0, 1.0)
        cand = hooks.bounded("candidate", tf.tanh(hooks.act("hpre", xh + hooks.act("rh", r * hh))), -1.0, 1.0)
        keep = hooks.act("keep", z * h)
        new = hooks.act("new", hooks.bounded("1-z", 1.0 - z, 0.0, 1.0) * cand)
        return (hooks.act("h", keep + new),)
    i, f, g, o = tf.split(hooks.act("pre", xt + hu), 4, axis=-1)
    i = hooks.bounded("i", tf.sigmoid(i), 0.0, 1.0)
    f = hooks.bounded("f", tf.sigmoid(f), 0.0, 1.0)
    g = hooks.bounded("g", tf.tanh(g), -1.0, 1.0)
    o = hooks.bounded("o", tf.sigmoid(o), 0.0, 1.0)
    c = f * state[1] + i * g
    return hooks.act("h", o * tf.tanh(c)), c


def cell_weights(cell) -> dict:
    """A cell's weights as NumPy: kernel, recurrent kernel, input bias, recurrent bias (GRU) or None."""
    kind = cell_kind(cell)
    if cell.activation is not keras.activations.tanh or (
            kind != "rnn" and cell.recurrent_activation is not keras.activations.sigmoid):
        raise ValueError("the gate equations assume tanh and sigmoid activations")
    bias = np.asarray(cell.bias, np.float32) if cell.use_bias else None
    two_biases = kind == "gru" and cell.reset_after and bias is not None
    return {"kind": kind, "kernel": np.asarray(cell.kernel, np.float32),
            "recurrent_kernel": np.asarray(cell.recurrent_kernel, np.float32),
            "bias": bias[0] if two_biases else bias, "recurrent_bias": bias[1] if two_biases else None,
            "reset_after": bool(getattr(cell, "reset_after", True))}


class _Recorder(Hooks):
    def __init__(self):
        self.values = {}

    def bounded(self, tag, x, lo, hi):
        self.values[tag] = x
        return x


@dataclasses.dataclass
class DirectionTaps:
    """One direction of a layer: `gates[name]` is [B, T, units] in time order (GATES lists the names)."""

    kind: str
    reverse: bool
    gates: dict


@dataclasses.dataclass
class LayerTaps:
    """A recurrent layer's output (as Keras returns it) and its directions' taps."""

    name: str
    output: np.ndarray
    directions: list


def tap_layer(layer, x) -> LayerTaps:
    """Runs a trained recurrent layer over x [B, T, D] with `textbook_step`, recording every gate.

    Its output equals the Keras layer's (merge by concatenation for a
    bidirectional layer). Runs eagerly, one step at a time.
    """
    import tensorflow as tf

    x = np.asarray(x, np.float32)
    steps = x.shape[1]
    taps, outputs = [], []
    for sub, reverse in directions(layer):
        w = cell_weights(sub.cell)
        xw = x @ w["kernel"] + (w["bias"] if w["bias"] is not None else 0.0)
        state = tuple(tf.zeros((x.shape[0], sub.cell.units)) for _ in state_parts(sub.cell))
        names = list(GATES[w["kind"]])
        series = {name: [None] * steps for name in names}
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            rec = _Recorder()
            state = textbook_step(w["kind"], tf.constant(xw[:, t]), state, tf.constant(w["recurrent_kernel"]),
                                  w["recurrent_bias"], rec, w["reset_after"])
            rec.values.update(zip(state_parts(sub.cell), state))
            for name in names:
                series[name][t] = np.asarray(rec.values[name])
        gates = {name: np.stack(v, axis=1) for name, v in series.items()}
        taps.append(DirectionTaps(w["kind"], reverse, gates))
        h = gates["h"]
        if sub.return_sequences:
            outputs.append(h[:, ::-1] if reverse and not isinstance(layer, keras.layers.Bidirectional) else h)
        else:
            outputs.append(h[:, 0] if reverse else h[:, -1])
    if isinstance(layer, keras.layers.Bidirectional) and layer.merge_mode != "concat":
        raise ValueError(f"layer {layer.name}: gate taps support merge_mode='concat' only")
    return LayerTaps(layer.name, np.concatenate(outputs, axis=-1), taps)


def layer_input(model, layer, inputs) -> np.ndarray:
    """What `layer` of `model` receives for `inputs`: the model's own graph up to it, in inference mode
    (front ends, embeddings and convolutions run as trained). A layer inside an ensemble's member (a
    nested model beside others, all reading the output of the chain before them) is reached through it."""
    if any(outer is layer for outer in model.layers):
        reads = keras.Model(model.input, layer.input)(inputs, training=False)
        return np.asarray(reads[0] if isinstance(reads, (list, tuple)) else reads)  # (sequence, mask): the sequence
    x = inputs
    for outer in model.layers:
        if isinstance(outer, keras.Model):
            if any(inner is layer for inner in flat_layers(outer)):
                return layer_input(outer, layer, x)
        elif not isinstance(outer, keras.layers.InputLayer):
            x = outer(x, training=False)
    raise ValueError(f"layer {layer.name} is not in model {model.name}")


def gate_layers(model) -> list:
    """The layers `zoo gates` can show, in order: `recurrent_layers`, and recurrent layers applied
    item by item through `TimeDistributed` (one weight set over, say, the object slots of a clip);
    nested models' (an ensemble's members) in their place."""
    return [layer for layer in flat_layers(model)
            if isinstance(layer.layer if isinstance(layer, keras.layers.TimeDistributed) else layer,
                          (keras.layers.RNN, keras.layers.Bidirectional))]


def tap_gate_layer(model, layer, inputs) -> LayerTaps:
    """`tap_layer` on one of `gate_layers`, given the model's inputs (a batch of one); a `TimeDistributed`
    layer is tapped on its busiest item, the one whose input sequence is largest (an object's slot
    rather than an empty one)."""
    x = layer_input(model, layer, inputs)
    if not isinstance(layer, keras.layers.TimeDistributed):
        return tap_layer(layer, x)
    busiest = int(np.argmax(np.abs(x[0]).sum(axis=tuple(range(1, x.ndim - 1)))))
    return tap_layer(layer.layer, x[:1, busiest])


def gate_taps(model, inputs) -> list[LayerTaps]:
    """Taps of every recurrent layer of `model` on `inputs` (a batch for the model's input)."""
    return [tap_layer(layer, layer_input(model, layer, inputs)) for layer in recurrent_layers(model)]
