"""Full-integer (int8) streaming step models, through the calibrated fake-quant path of `zoo.core.int8`.

The step is `StepModel`'s, rebuilt from TensorFlow ops with `Int8Graph`'s
quantization points: int8 weights (per tensor) and activations for the
convolutions, every recurrent gate (`textbook_step` with quantizing hooks) and
the classifier. The audio front end and the batch-normalisation affine stay
float, as in the whole-clip int8 export (a log-power spectrum needs more than 8
bits); so does an LSTM's cell state. Ranges are calibrated by streaming
training clips hop by hop, so every state the step sees in use was seen.

Example:
    >>> import dataclasses, numpy as np
    >>> from zoo.families.kws.recipes import recipes
    >>> from zoo.families.kws.model import build
    >>> from zoo.families.kws.stream import StepContract, StepModel, stream_clip
    >>> recipe = next(r for r in recipes() if r.name == "kws_ugru_s_fsdd")
    >>> recipe = dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, units=4, layers=1))
    >>> step = Int8Step(StepModel(build(recipe, labels=list("ab"))))
    >>> clips = np.random.default_rng(0).normal(0, 0.1, (2, 8000)).astype("float32")
    >>> step.calibrate(clips)
    >>> bool(np.allclose(step.float_stream(clips[0]), stream_clip(step.step, clips[0]), atol=1e-4))
    True
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.core.int8 import Int8Graph, batchnorm_affine
from zoo.families.kws.stream import StepContract, StepModel, stream_clip
from zoo.nn.recurrent import textbook_step


class Int8Step(StepContract):
    """A `StepModel` with calibrated fake quantization (see the module docstring).

    Args:
        step: the float step model of a trained causal keyword model.
    """

    def __init__(self, step: StepModel):
        self.step = step
        self.graph = Int8Graph(step.model, float_layers=())
        self.hop, self.prime, self.running, self.state_shapes = step.hop, step.prime, step.running, step.state_shapes
        # Weights as NumPy constants, read eagerly once (variables have no value while tracing).
        self.consts = {}
        for kind, layer, _ in step.entries():
            if kind == "frame":
                self.consts[id(layer)] = batchnorm_affine(layer)
            elif kind in ("conv", "dense"):
                self.consts[id(layer)] = (np.asarray(layer.kernel, np.float32), np.asarray(layer.bias, np.float32))

    def fn(self, audio, *states):
        """The step in TF ops at the graph's current mode: (audio, *states) -> {"logits", *states}."""
        new = {}
        logits = self._walk(self.step.plan, audio, dict(zip(self.state_shapes, states)), new)
        return {"logits": logits, **new}

    def _walk(self, plan, x, state, new):
        g = self.graph
        for kind, layer, name in plan:
            if kind == "front":
                window, new[name] = self.step.buffer(name, state, x)
                x = layer(window)
            elif kind == "frame":
                scale, offset = self.consts[id(layer)]
                x = g.act(layer.name, x * scale + offset)
            elif kind == "conv":
                window, new[name] = self.step.buffer(name, state, x)
                kernel, bias = self.consts[id(layer)]
                y = tf.nn.conv1d(window, g.weight(kernel), stride=layer.strides[0], padding="VALID") + bias
                x = g.act(layer.name, tf.nn.relu(y))
            elif kind == "recurrent":
                x, parts = self._recurrent(layer.cells[0], name[0], x, [state[n] for n in name])
                new.update(zip(name, parts))
            elif kind == "members":
                x = [self._walk(member, x, state, new) for member in layer]
            elif kind == "merge":  # the members' mean probabilities, in float (the output is float)
                x = layer(x)
            else:
                x = g.dense(layer.name, x[:, -1] if len(x.shape) == 3 else x, *self.consts[id(layer)])
        return x

    def _recurrent(self, cell, name, x, parts):
        """A recurrent layer over this step's frames from its state parts (h) or (h, c); (outputs, new parts).
        An LSTM's c stays float."""
        g = self.graph
        w = g.cell(cell)
        state = (g.act(f"{name}/h", parts[0]), *parts[1:])
        u = g.weight(w["recurrent_kernel"])
        outputs = []
        for t in range(x.shape[1]):
            xw = g.dense(f"{name}/xw", x[:, t], w["kernel"], w["bias"])
            state = textbook_step(w["kind"], xw, state, u, w["recurrent_bias"], g.hooks(name), w["reset_after"])
            outputs.append(state[0])
        return tf.stack(outputs, axis=1), state

    # The step-function contract (`stream_clip`, `LiteStep`), run eagerly at the current mode.

    def __call__(self, chunk, state):
        out = self.fn(tf.constant(chunk), *[tf.constant(state[n]) for n in self.state_shapes])
        out = {k: np.asarray(v) for k, v in out.items()}
        return out.pop("logits"), out

    def _run(self, mode: str, clip) -> np.ndarray:
        self.graph.set_mode(mode)
        try:
            return stream_clip(self, clip)
        finally:
            self.graph.set_mode("float")

    def calibrate(self, clips: np.ndarray) -> None:
        """Records every activation's range while streaming `clips` (float32 [N, samples]) hop by hop."""
        for clip in clips:
            self._run("calibrate", clip)

    def float_stream(self, clip) -> np.ndarray:
        """The rebuilt step in float over a clip (for checking it against `StepModel`)."""
        return self._run("float", clip)

    def save(self, path) -> None:
        """Writes the fake-quantized step as a SavedModel (`serving_default` is one step)."""
        self.graph.set_mode("quantize")
        try:
            module = tf.Module()
            module.serve = tf.function(self.fn, input_signature=self.step.signature)
            tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
        finally:
            self.graph.set_mode("float")
