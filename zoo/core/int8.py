"""Full-integer (int8) LiteRT models whose recurrent layers stay loops.

LiteRT's post-training calibrator crashes on every `WHILE` loop (see the stack
notes), and unrolling the loop instead makes a graph of about 17 ops per time
step whose tensor tables outweigh the 4x smaller weights. This module takes
the other road the converter offers: it rebuilds the trained Keras model's
inference graph from plain TensorFlow ops, runs it in float over calibration
clips to record every activation's range, then rebuilds it with fake-quant
nodes at those ranges (as quantization-aware training would leave them) and
with per-channel fake-quantized weights. The converter turns that graph into
int8 kernels, inside the `WHILE` body as well, without running its calibrator.

The recurrent step is `zoo.nn.recurrent.textbook_step`, the same gate equations
the gate taps read; its hooks put a fake-quant node on every intermediate value.
Layers the family passes as `float_layers` (the audio front end) run as the
Keras layer itself, in float; so does an LSTM's cell state (8 bits cannot hold
it; LiteRT's own LSTM kernel keeps it in 16). Training-only layers
(`zoo.nn.layers.TrainingOnly`, such as SpecAugment) are the identity.

Example:
    >>> import keras, numpy as np
    >>> inputs = keras.Input((6, 3))
    >>> x = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(x)))
    >>> clips = np.random.default_rng(0).normal(size=(8, 6, 3)).astype("float32")
    >>> graph = Int8Graph(model, float_layers=())
    >>> graph.calibrate(clips)
    >>> bool(np.allclose(graph.float_forward(clips), model.predict(clips, verbose=0), atol=1e-5))
    True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.litert import convert_saved_model
from zoo.nn.layers import AttentionPooling, MeanProbabilities, TrainingOnly
from zoo.nn.recurrent import Hooks, cell_weights, directions, recurrent_layers, textbook_step


class _QuantHooks(Hooks):
    """`textbook_step`'s hooks for one direction: calibrated ranges on unbounded values,
    known ranges on gates (tags are prefixed with the direction's name)."""

    def __init__(self, graph, name: str):
        self.graph, self.name = graph, name

    def act(self, tag, x):
        return self.graph._act(f"{self.name}/{tag}", x)

    def bounded(self, tag, x, lo, hi):
        return self.graph._fixed(x, lo, hi)


def batchnorm_affine(layer, value=np.asarray) -> tuple[np.ndarray, np.ndarray]:
    """A BatchNormalization layer at inference as float32 (scale, offset); `value` reads a variable."""
    gamma = value(layer.gamma) if layer.scale else 1.0
    beta = value(layer.beta) if layer.center else 0.0
    scale = gamma / np.sqrt(value(layer.moving_variance) + layer.epsilon)
    return np.asarray(scale, np.float32), np.asarray(beta - value(layer.moving_mean) * scale, np.float32)


class Int8Graph:
    """A Keras layer chain re-expressed in TF ops, with calibrated fake quantization.

    Args:
        model: a functional Keras model whose layers form one chain (an ensemble's members, nested
            models side by side that the next layer merges, count as one link).
        float_layers: layers of `model` run as themselves, in float.
    """

    def __init__(self, model, float_layers=()):
        self.model = model
        self.float_layers = tuple(float_layers)
        self._float_ids = {id(layer) for layer in self.float_layers}
        self.ranges: dict[str, tuple[float, float]] = {}
        self._mode = "float"  # "float", "calibrate" or "quantize"
        # Weights as numpy, read eagerly once (variables have no value while tracing).
        self._values = {id(v): np.asarray(v, np.float32) for v in model.weights}
        self._cells = {}
        for layer in recurrent_layers(model):
            for sub, _ in directions(layer):
                try:
                    self._cells[id(sub.cell)] = cell_weights(sub.cell)
                except ValueError as e:
                    raise ZooError(f"int8 export: layer {sub.name}: {e}") from None

    def _np(self, variable) -> np.ndarray:
        return self._values[id(variable)]

    # -- quantization points -------------------------------------------------

    def _act(self, name: str, x):
        """An activation: records its range, or fake-quantizes it to int8."""

        if self._mode == "calibrate":
            lo, hi = float(tf.reduce_min(x)), float(tf.reduce_max(x))
            old = self.ranges.get(name)
            self.ranges[name] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
        elif self._mode == "quantize":
            lo, hi = self.ranges[name]
            return tf.quantization.fake_quant_with_min_max_args(x, min(lo, 0.0), max(hi, 1e-6), num_bits=8)
        return x

    def _fixed(self, x, lo: float, hi: float):
        """A bounded activation (sigmoid, tanh, softmax) at its known range."""

        if self._mode != "quantize":
            return x
        return tf.quantization.fake_quant_with_min_max_args(x, lo, hi, num_bits=8)

    def _weight(self, w):
        """A weight: symmetric per-tensor int8 when quantizing.

        (Per-channel fake quantization along the output axis breaks the
        converter: it transposes matmul weights and then finds the quantized
        axis moved.)
        """

        w = np.asarray(w, np.float32)
        if self._mode != "quantize":
            return tf.constant(w)
        bound = max(float(np.abs(w).max()), 1e-8)
        return tf.quantization.fake_quant_with_min_max_args(tf.constant(w), -bound, bound, num_bits=8,
                                                            narrow_range=True)

    # -- layers ----------------------------------------------------------------

    def _dense(self, name, x, kernel, bias):

        shape = tf.shape(x)
        flat = tf.reshape(x, (-1, x.shape[-1]))
        y = tf.matmul(flat, self._weight(kernel))
        if bias is not None:
            y = y + bias
        y = tf.reshape(y, tf.concat([shape[:-1], [kernel.shape[-1]]], 0))
        return self._act(name, y)

    def _direction(self, name, layer, x, reverse: bool):
        """One direction of a GRU, LSTM or SimpleRNN layer over x [B, T, D].

        Returns its initial state and its step function `(i, state) -> state`
        (state[0] is h) at time index i.
        """

        w = self._cells[id(layer.cell)]
        kind = w["kind"]
        if not w["reset_after"]:
            raise ZooError(f"int8 export: GRU layer {layer.name} must use reset_after=True")
        n = layer.cell.units
        # The input projection of every step at once, outside the loop: [T, B, gates].
        xw = tf.transpose(self._dense(f"{name}/xw", x, w["kernel"], w["bias"]), (1, 0, 2))
        u = self._weight(w["recurrent_kernel"])
        hooks = _QuantHooks(self, name)

        def step(i, state):
            return textbook_step(kind, tf.gather(xw, i), state, u, w["recurrent_bias"], hooks)

        batch = x.shape[0] or tf.shape(x)[0]
        state = (self._act(f"{name}/h", tf.zeros((batch, n))),) + ((tf.zeros((batch, n)),) if kind == "lstm" else ())
        # Zeros for the output buffer, computed from the input so the converter
        # does not store them as a [T, B, units] constant.
        out0 = self._act(f"{name}/h", xw[:, :, :n] * 0.0)
        return {"name": name, "step": step, "state": state, "out": out0, "reverse": reverse,
                "sequences": layer.return_sequences}

    def _recurrent(self, x, directions):
        """Runs directions [(name, layer, reverse), ...] over x [B, T, D] in one loop.

        A reversed direction steps from the last frame to the first; every
        direction's outputs are stored at their time index, so all come out in
        time order (as `Bidirectional` merges them). Returns one output each:
        [B, T, units] with `return_sequences`, else the last state [B, units].
        """

        steps = x.shape[1]
        dirs = [self._direction(name, layer, x, reverse) for name, layer, reverse in directions]

        def index(t, d):
            return steps - 1 - t if d["reverse"] else t

        if self._mode == "calibrate":  # eager: a Python loop so every step's range is seen
            states = [d["state"] for d in dirs]
            outs = [[None] * steps for _ in dirs]
            for t in range(steps):
                for k, d in enumerate(dirs):
                    states[k] = d["step"](index(t, d), states[k])
                    outs[k][index(t, d)] = states[k][0]
            seqs = [tf.stack(o) for o in outs]
        else:
            positions = tf.range(steps)[:, None, None]

            def body(t, states, outs):
                new_states, new_outs = [], []
                for d, state, out in zip(dirs, states, outs):
                    i = index(t, d)
                    state = d["step"](i, state)
                    new_states.append(state)
                    # A select, not a TensorArray: LiteRT would store the array's
                    # float zeros as a [T, B, units] constant.
                    new_outs.append(self._act(f"{d['name']}/h", tf.where(positions == i, state[0][None], out)))
                return t + 1, tuple(new_states), tuple(new_outs)

            _, states, seqs = tf.while_loop(
                lambda t, *_: t < steps, body,
                (tf.constant(0), tuple(d["state"] for d in dirs), tuple(d["out"] for d in dirs)))
        return [tf.transpose(seq, (1, 0, 2)) if d["sequences"] else state[0]
                for d, state, seq in zip(dirs, states, seqs)]

    def _layer(self, layer, x):

        name = layer.name
        if id(layer) in self._float_ids:
            return self._act(name, layer(x))
        if isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout, TrainingOnly)):
            return x  # inference: identity
        if isinstance(layer, keras.layers.Bidirectional):
            if layer.merge_mode != "concat":
                raise ZooError(f"int8 export: layer {name} must merge by concat")
            fwd, bwd = self._recurrent(x, [(f"{name}/fwd", layer.forward_layer, layer.forward_layer.go_backwards),
                                           (f"{name}/bwd", layer.backward_layer, layer.backward_layer.go_backwards)])
            return self._act(f"{name}/concat", tf.concat([fwd, bwd], -1))
        if isinstance(layer, (keras.layers.GRU, keras.layers.LSTM, keras.layers.SimpleRNN)):
            (y,) = self._recurrent(x, [(name, layer, layer.go_backwards)])
            # Alone, a go_backwards layer returns its outputs last frame first.
            return tf.reverse(y, [1]) if layer.go_backwards and layer.return_sequences else y
        if isinstance(layer, keras.layers.Dense):
            if layer.activation is not keras.activations.linear:
                raise ZooError(f"int8 export: Dense layer {name} must be linear")
            return self._dense(name, x, self._np(layer.kernel), self._np(layer.bias) if layer.use_bias else None)
        if isinstance(layer, keras.layers.Conv1D):
            if layer.activation not in (keras.activations.relu, keras.activations.linear) or \
                    layer.dilation_rate != (1,) or layer.groups != 1:
                raise ZooError(f"int8 export: Conv1D layer {name} must be plain, with relu or no activation")
            y = tf.nn.conv1d(x, self._weight(self._np(layer.kernel)), stride=layer.strides[0],
                             padding=layer.padding.upper())
            if layer.use_bias:
                y = y + self._np(layer.bias)
            if layer.activation is keras.activations.relu:
                y = tf.nn.relu(y)
            return self._act(name, y)
        if isinstance(layer, keras.layers.BatchNormalization):  # inference: a per-feature affine
            scale, offset = batchnorm_affine(layer, self._np)
            return self._act(name, x * scale + offset)
        if isinstance(layer, keras.layers.ZeroPadding1D):
            return tf.pad(x, [[0, 0], list(layer.padding), [0, 0]])
        if isinstance(layer, keras.layers.GlobalAveragePooling1D):
            return self._act(name, tf.reduce_mean(x, 1))
        if isinstance(layer, keras.layers.GlobalMaxPooling1D):
            return tf.reduce_max(x, 1)
        if isinstance(layer, AttentionPooling):
            score = self._dense(f"{name}/score", x, self._np(layer.score.kernel), self._np(layer.score.bias))
            weights = self._fixed(tf.nn.softmax(score[..., 0], axis=-1), 0.0, 1.0)[..., None]
            return self._act(name, tf.reduce_sum(self._act(f"{name}/weighted", weights * x), 1))
        raise ZooError(f"int8 export: unsupported layer {name} ({type(layer).__name__})")

    def _forward(self, x, layers=None, quantized=False):
        """The chain `layers` (default: the model's) on `x`. Nested models side by side (an ensemble's
        members) each read the same input, and the `MeanProbabilities` after them merges their logits
        in float. `quantized`: `x` is already fake-quantized."""
        members = []
        for layer in self.model.layers if layers is None else layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if isinstance(layer, keras.Model):
                members.append(self._forward(x, layer.layers, quantized))
                continue
            if isinstance(layer, MeanProbabilities):
                x, members = layer(members), []
                continue
            if id(layer) in self._float_ids:
                quantized = True  # its output is fake-quantized
            elif not quantized:
                x, quantized = self._act(f"{layer.name}/input", x), True
            x = self._layer(layer, x)
        return x

    # -- public ----------------------------------------------------------------

    # The quantization points, for graphs that rebuild other shapes of the same layers (a streaming step).
    act, fixed, weight, dense = _act, _fixed, _weight, _dense

    def hooks(self, name: str) -> Hooks:
        """`textbook_step` hooks that quantize a recurrent direction named `name`."""
        return _QuantHooks(self, name)

    def cell(self, cell) -> dict:
        """The weights of a recurrent cell of the model, as `cell_weights` gives them."""
        return self._cells[id(cell)]

    def set_mode(self, mode: str) -> None:
        """`float` (plain), `calibrate` (record ranges) or `quantize` (fake-quantize at them)."""
        if mode not in ("float", "calibrate", "quantize"):
            raise ValueError(f"unknown mode {mode!r}")
        self._mode = mode

    def float_forward(self, x: np.ndarray) -> np.ndarray:
        """The rebuilt graph in float (no fake quantization), for checking it against Keras."""
        self._mode = "float"
        return self._forward(np.asarray(x, np.float32)).numpy()

    def calibrate(self, clips: np.ndarray, batch_size: int = 64) -> None:
        """Records every activation's range over `clips`."""
        self._mode = "calibrate"
        try:
            for i in range(0, len(clips), batch_size):
                self._forward(np.asarray(clips[i:i + batch_size], np.float32))
        finally:
            self._mode = "float"

    def save(self, input_spec, saved_model_dir: str) -> None:
        """Writes the fake-quantized graph as a SavedModel whose `serving_default` takes
        `input_spec` (a fixed-shape `tf.TensorSpec`) and returns `{"logits": ...}`."""

        if not self.ranges:
            raise ZooError("int8 export: calibrate before converting")
        self._mode = "quantize"
        graph = self

        class Serving(tf.Module):
            @tf.function(input_signature=[input_spec])
            def serve(self, inputs):
                return {"logits": graph._forward(inputs)}

        module = Serving()
        try:
            tf.saved_model.save(module, saved_model_dir, signatures=module.serve)
        finally:
            self._mode = "float"

    def tflite(self, input_spec, tmp_dir: str) -> bytes:
        """The fake-quantized graph as int8 LiteRT bytes (see `save`)."""

        self.save(input_spec, tmp_dir)
        return convert_saved_model(tmp_dir, "int8")
