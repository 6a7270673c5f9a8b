"""Streaming keyword models: one hop of raw audio in, scores and the carried state out.

A causal keyword model (`KWSModel.causal`) reads only the past, so it can run
one hop at a time with its state held outside, as an always-listening device
runs it. `StepModel` re-expresses a trained causal model as one step, using the
trained layers themselves (shared weights):

- the front end keeps the last `fft_length - frame_step` samples (`audio_buffer`)
  and turns them and the new hop into `hop / frame_step` new feature frames;
- batch normalisation is a fixed affine at inference;
- each convolution keeps the frames its left padding stood for (`conv1_buffer`, ...);
- each recurrent layer keeps its state (`gru1_state`: h; an LSTM also its cell, `lstm1_cell`);
- the classifier reads the last layer's newest output.

A hop is `frame_step` samples, times the convolution's stride in a CRNN (10 ms,
or 20 ms). The step graph has no loop, so it converts to builtins-only LiteRT
with no `WHILE` and no Flex op. Zeros are the start state; feeding a clip's
first `prime` samples as `audio_buffer` and then its hops reproduces the
non-streaming model's scores on the whole clip (`stream_clip`).

Example:
    >>> import dataclasses, numpy as np
    >>> from zoo.families.kws.recipes import recipes
    >>> from zoo.families.kws.model import build
    >>> recipe = next(r for r in recipes() if r.name == "kws_ugru_s_fsdd")
    >>> recipe = dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, units=4, layers=1))
    >>> model = build(recipe, labels=list("abc"))
    >>> step = StepModel(model)
    >>> step.hop, step.prime, sorted(step.state_shapes)
    (80, 176, ['audio_buffer', 'gru1_state'])
    >>> clip = np.random.default_rng(0).normal(0, 0.1, 8000).astype("float32")
    >>> whole = model.predict_on_batch(clip[None])[0]
    >>> bool(np.allclose(stream_clip(step, clip)[-1], whole, atol=1e-4))
    True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from zoo.audio.features import AudioFeatures
from zoo.core.errors import ZooError
from zoo.nn.layers import MeanProbabilities, TrainingOnly
from zoo.nn.recurrent import Stack, directions


class StepContract:
    """What every step function has (`StepModel`, `LiteStep`, a SavedModel step): `hop`, `prime`,
    `state_shapes`, `running`, zeros as the start state, and a call (audio [1, hop], state) ->
    (logits, new state)."""

    def read_sidecar(self, meta: dict) -> None:
        """Takes the contract from an export's sidecar (`stream_meta`)."""
        self.hop, self.prime = int(meta["hop"]), int(meta["prime"])
        self.state_shapes = {k: tuple(v) for k, v in meta["state_shapes"].items()}
        self.running = list(meta.get("running_states", ["audio_buffer"]))

    def zero_state(self) -> dict:
        """The start state: zeros of every state tensor."""
        return {name: np.zeros(shape, np.float32) for name, shape in self.state_shapes.items()}


class StepModel(StepContract):
    """One streaming step of a trained causal keyword model (see the module docstring).

    Args:
        model: a trained Keras keyword model built with `causal=True`.

    Attributes:
        hop: new samples per step.
        prime: samples of `audio_buffer` (a clip's first `prime` samples start it).
        state_shapes: name -> shape of each state tensor, batch 1, in signature order.
        running: the states that follow the signal rather than a clip's content (the audio
            buffer): a listener that restarts a window keeps them.
        sample_rate: the model's input rate.
        plan: the step's layers in order, as (kind, layer, state name, or the names of a recurrent
            layer's h and c, or None); kinds are
            `front`, `frame` (per-frame, batch normalisation), `conv`, `recurrent` (a `Stack`),
            `dense`, and for an ensemble (`model.members` > 1) `members` (in place of the layer, a
            plan per member, each reading the same frames) then `merge` (their mean probabilities).
            `stream_int8.Int8Step` rebuilds the same plan with quantization.
    """

    def __init__(self, model):
        self.model = model
        self.state_shapes, self.front = {}, None
        self.plan, stride = self._parse(model.layers)
        front = self.front
        if front is None:
            raise ZooError("a streaming keyword model needs its audio front end inside the model")
        self.sample_rate = front.sample_rate
        self.prime = front.fft_length - front.frame_step
        self.hop = front.frame_step * stride
        self.signature = [tf.TensorSpec((1, self.hop), tf.float32, name="audio")] + [
            tf.TensorSpec(shape, tf.float32, name=n) for n, shape in self.state_shapes.items()]
        self.step = tf.function(self.fn, input_signature=self.signature)

    def _parse(self, layers) -> tuple[list, int]:
        """(the plan of a chain of layers, its frame stride); an ensemble's members (nested models side by
        side, reading the same frames) become one `members` entry holding a plan each."""
        plan, pad, stride, members = [], 0, 1, []
        for layer in layers:
            if isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout, TrainingOnly)):
                continue
            if isinstance(layer, keras.Model):
                members.append(self._parse(layer.layers))
                continue
            if members:
                if not isinstance(layer, MeanProbabilities) or len({s for _, s in members}) != 1:
                    raise ZooError(f"layer {layer.name}: side-by-side models stream only as an ensemble's members")
                plan.append(("members", [p for p, _ in members], None))
                stride *= members[0][1]
                members = []
                plan.append(("merge", layer, None))
            elif isinstance(layer, AudioFeatures):
                if layer.normalize != "none":
                    raise ZooError(f"layer {layer.name}: a front end with per-clip normalisation cannot stream")
                self.front = layer
                self.state_shapes["audio_buffer"] = (1, layer.fft_length - layer.frame_step)
                self.running = ["audio_buffer"]
                plan.append(("front", layer, "audio_buffer"))
            elif isinstance(layer, keras.layers.ZeroPadding1D):
                left, right = layer.padding
                if right:
                    raise ZooError(f"layer {layer.name}: padding on the right reads the future")
                pad = left
            elif isinstance(layer, keras.layers.Conv1D):
                if layer.padding != "valid" or layer.dilation_rate != (1,):
                    raise ZooError(f"layer {layer.name}: only left-padded (causal) convolutions stream")
                width = layer.input.shape[-1]
                name = f"{layer.name}_buffer"
                self.state_shapes[name] = (1, pad, width)
                plan.append(("conv", layer, name))
                stride *= layer.strides[0]
                pad = 0
            elif isinstance(layer, keras.layers.BatchNormalization):
                plan.append(("frame", layer, None))
            elif isinstance(layer, keras.layers.RNN):
                (sub, reverse), = directions(layer)
                if reverse:
                    raise ZooError(f"layer {layer.name}: a backward layer cannot stream")
                # h and an LSTM's c in tensors of their own: in one tensor, int8 gives both h's scale
                # and clips c to [-1, 1].
                stack = Stack([layer])
                names = tuple(f"{layer.name}_{'cell' if part == 'c' else 'state'}" for _, part, _ in stack.layout)
                self.state_shapes.update({n: (1, width) for n, (_, _, width) in zip(names, stack.layout)})
                plan.append(("recurrent", stack, names))
            elif isinstance(layer, keras.layers.Bidirectional):
                raise ZooError(f"layer {layer.name}: a bidirectional layer reads the whole clip and cannot stream")
            elif isinstance(layer, keras.layers.Dense):
                plan.append(("dense", layer, None))
            else:
                raise ZooError(f"layer {layer.name} ({type(layer).__name__}) has no streaming form")
        if members:
            raise ZooError("side-by-side models stream only as an ensemble's members, merged by their mean")
        return plan, stride

    def entries(self, plan=None):
        """Every (kind, layer, name) of the plan, members' included, in order."""
        for kind, layer, name in self.plan if plan is None else plan:
            if kind == "members":
                for member in layer:
                    yield from self.entries(member)
            else:
                yield kind, layer, name

    def fn(self, audio, *states):
        """The step in TensorFlow ops: (audio [1, hop], *states) -> {"logits", *state names}."""
        logits, new = self._step(audio, dict(zip(self.state_shapes, states)))
        return {"logits": logits, **new}

    def buffer(self, name: str, state, x):
        """(the buffered past and the new input as one window, the buffer's next value: the window's tail)."""
        window = tf.concat([state[name], x], axis=1)
        return window, window[:, window.shape[1] - self.state_shapes[name][1]:]

    def _step(self, audio, state):
        new = {}
        return self._run(self.plan, audio, state, new), new

    def _run(self, plan, x, state, new):
        for kind, layer, name in plan:
            if kind in ("front", "conv"):  # samples [1, n] or frames [1, n, features]
                window, new[name] = self.buffer(name, state, x)
                x = layer(window)
            elif kind == "frame":
                x = layer(x, training=False)
            elif kind == "recurrent":  # the Stack steps one packed state: (h) or (h, c)
                h, outputs = tf.concat([state[n] for n in name], axis=-1), []
                for t in range(x.shape[1]):
                    y, h = layer.step(x[:, t], h)
                    outputs.append(y)
                new.update(zip(name, tf.split(h, [self.state_shapes[n][1] for n in name], axis=-1)))
                x = tf.stack(outputs, axis=1)
            elif kind == "members":  # each member reads the same frames
                x = [self._run(member, x, state, new) for member in layer]
            elif kind == "merge":
                x = layer(x)
            else:  # dense: the classifier reads the newest output
                x = layer(x[:, -1] if len(x.shape) == 3 else x)
        return x


def stream_clip(step_fn, clip: np.ndarray, hop: int | None = None, prime: int | None = None) -> np.ndarray:
    """Feeds a clip hop by hop; returns the logits after each hop [hops, labels].

    The clip's first `prime` samples start the audio buffer, so the last row
    equals the non-streaming model's logits on the whole clip.

    Args:
        step_fn: a `StepModel`, or any callable `(audio [1, hop], state dict) -> (logits, state dict)`
            with `hop`, `prime` and `zero_state()` attributes (a LiteRT step runner).
        clip: float32 samples.
    """
    hop, prime = hop or step_fn.hop, prime or step_fn.prime
    state = step_fn.zero_state()
    state["audio_buffer"] = np.asarray(clip[None, :prime], np.float32)
    rows = []
    for k in range((len(clip) - prime) // hop):
        chunk = np.asarray(clip[None, prime + k * hop:prime + (k + 1) * hop], np.float32)
        logits, state = run_step(step_fn, chunk, state)
        rows.append(logits[0])
    return np.stack(rows)


def run_step(step_fn, chunk, state):
    """One step of a `StepModel` or a runner with the same contract: (logits, new state)."""
    if isinstance(step_fn, StepModel):
        out = step_fn.step(tf.constant(chunk), *[tf.constant(state[n]) for n in step_fn.state_shapes])
        out = {k: v.numpy() for k, v in out.items()}
        return out.pop("logits"), out
    return step_fn(chunk, state)


def save_step(step: StepModel, path) -> None:
    """Writes the step as a SavedModel whose `serving_default` signature is one step
    (through `keras.export.ExportArchive`, which freezes the weights for the converter)."""
    from keras.export import ExportArchive

    archive = ExportArchive()
    archive.track(step.model)
    archive.add_endpoint("serve", step.fn, input_signature=step.signature)
    archive.write_out(str(path), verbose=False)


class LiteStep(StepContract):
    """A streaming LiteRT step file as a step function, on one thread.

    Args:
        path: a `.tflite` file written by `zoo export --streaming` (or its bytes).
        meta: its sidecar (`hop`, `prime`, `state_shapes`).
    """

    def __init__(self, path, meta: dict):
        from zoo.core import litert

        self.read_sidecar(meta)
        self.interpreter = litert.open_interpreter(path)
        self.interpreter.allocate_tensors()
        runner = self.interpreter.get_signature_runner()
        details = runner.get_input_details()
        missing = (set(self.state_shapes) | {"audio"}) - set(details)
        if missing:
            source = "model" if isinstance(path, bytes) else path
            raise ZooError(f"{source}: not a streaming keyword model (no input {sorted(missing)[0]})")
        # Direct tensor indices: the signature runner's per-call checks cost more than the model.
        self._inputs = {name: d["index"] for name, d in details.items()}
        self._outputs = {name: d["index"] for name, d in runner.get_output_details().items()}
        del runner  # it holds views of the interpreter's buffers, which forbid invoke()

    def __call__(self, chunk, state):
        interp = self.interpreter
        interp.set_tensor(self._inputs["audio"], chunk)
        for name, value in state.items():
            interp.set_tensor(self._inputs[name], value)
        interp.invoke()
        new = {name: interp.get_tensor(self._outputs[name]) for name in state}
        return interp.get_tensor(self._outputs["logits"]), new
