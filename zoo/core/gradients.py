"""`zoo gradients`: how far back in time a trained recurrent model's loss still reaches.

For each run: the gradient of the loss with respect to the input of the model's
first recurrent layer, `dL/dx_t`, at every time step t, its norm over features,
averaged over real validation inputs. When the loss reads the last step's state,
a plain RNN's norms fall away exponentially going back from it (the vanishing
gradient), and an LSTM's or GRU's gates can keep them up; a model that pools
over every step (attention) has short paths from every step to the loss and
needs no long ones. One log-scale figure draws every run.

The model is split where the first recurrent layer begins: the part before it
(front end, embedding, convolutions) runs as trained in inference mode and
gives the sequence the recurrent layers read; the part from there on is
differentiated. The loss is the family's own training loss, on the run's own
validation data.

Example:
    >>> steps = np.array([[3.0, 4.0], [0.0, 1.0]])[None]     # one input, two steps, two features
    >>> step_norms(steps).tolist()
    [[5.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.load import load_run
from zoo.nn.recurrent import cell_kind, directions, gate_layers


def step_norms(grads: np.ndarray) -> np.ndarray:
    """Per input and time step, the L2 norm of a gradient over its features: [B, T, ...] -> [B, T]."""
    grads = np.asarray(grads)
    return np.sqrt(np.square(grads.reshape(grads.shape[0], grads.shape[1], -1)).sum(axis=-1))


def first_recurrent(model):
    """The model's first recurrent layer, if gradients can be measured at its input; else a one-line error."""
    layers = gate_layers(model)
    if not layers:
        raise ZooError(f"model {model.name} has no recurrent layer")
    layer = layers[0]
    if not any(layer is outer for outer in model.layers):
        raise ZooError(f"model {model.name}: its recurrent layers are inside joined models (an ensemble); "
                       "measure the runs it joined")
    if isinstance(layer, keras.layers.TimeDistributed):
        raise ZooError(f"model {model.name}: its first recurrent layer ({layer.name}) runs once per item of "
                       "each input; gradients measure models whose first recurrent layer reads one sequence")
    return layer


def split_at_first_recurrent(model):
    """(front, back): `front` maps the model's first input to what the first recurrent layer reads (a list: the
    sequence, and its mask when padding is masked), `back` maps those (and any other model input the rest
    reads) to the model's output."""
    layer = first_recurrent(model)
    reads = list(layer.input) if isinstance(layer.input, (list, tuple)) else [layer.input]
    others = [x for x in model.inputs if x is not model.inputs[0]]
    front = keras.Model(model.inputs[0], reads)
    back = keras.Model([*reads, *others], list(model.outputs))
    return front, back


def input_gradients(model, loss_fn, batches, max_inputs: int = 256) -> tuple[np.ndarray, int]:
    """Mean over up to `max_inputs` real inputs of the per-step norm of dL/dx_t at the first recurrent
    layer's input; returns (norms [T], inputs used). `batches` yields (inputs, targets) as in training."""
    front, back = split_at_first_recurrent(model)
    if isinstance(loss_fn, Mapping):
        raise ZooError(f"model {model.name} trains on several losses; gradients measure a model with one")
    total, used = None, 0
    for inputs, targets in batches:
        first, *others = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
        reads = front(first, training=False)
        x, *masks = reads if isinstance(reads, (list, tuple)) else (reads,)
        x = tf.identity(x)  # a fresh tensor: the mask goes in as its own input, not attached to x
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = back([x, *masks, *others], training=False)
            loss = loss_fn(targets, outputs[0] if isinstance(outputs, (list, tuple)) else outputs)
        norms = step_norms(tape.gradient(loss, x).numpy() * x.shape[0])  # per input, not per batch mean
        norms = norms[:max_inputs - used]
        total = norms.sum(axis=0) if total is None else total + norms.sum(axis=0)
        used += norms.shape[0]
        if used >= max_inputs:
            break
    if not used:
        raise ZooError("no validation inputs to measure gradients on")
    return total / used, used


def measure(run_dir: Path, families: Mapping[str, Family], data_root: Path, max_inputs: int = 256) -> dict:
    """One run's curve: its recipe, its first recurrent layer's cell, and the mean norm at each step."""
    recipe, family, model = load_run(run_dir, families)
    layer = first_recurrent(model)  # a model it cannot measure fails before data is read
    cell = cell_kind(directions(layer)[0][0].cell)
    splits = family.datasets(recipe, data_root)
    norms, used = input_gradients(model, family.compile_args(recipe)["loss"], splits.validation, max_inputs)
    return {"run": str(run_dir), "recipe": recipe.name, "cell": cell, "inputs": used, "steps": len(norms),
            "norms": [float(v) for v in norms]}


def measure_runs(run_dirs: Sequence[Path], families: Mapping[str, Family], out: Path | None, data_root: Path,
                 max_inputs: int = 256) -> dict:
    """Measures every run and writes one figure (`out`, default `RUN/gradients.png` for a single run) and
    its curves beside it as JSON (same name, `.json`)."""
    if out is None:
        if len(run_dirs) != 1:
            raise ZooError("several runs share one figure: name it with --out FILE.png")
        out = Path(run_dirs[0]) / "gradients.png"
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ZooError(f"{out}: the figure is a PNG; name it .png")
    curves = [measure(Path(r), families, data_root, max_inputs) for r in run_dirs]
    draw(out, curves)
    runs.write_json(out.with_suffix(".json"), {"curves": curves})
    return {"figure": str(out), "curves": str(out.with_suffix(".json")),
            "runs": [{k: v for k, v in c.items() if k != "norms"} for c in curves]}


def draw(path: Path, curves: Sequence[dict]) -> None:
    """Every run's norms against the time step, on a log scale."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for curve in curves:
        ax.semilogy(curve["norms"], label=f"{curve['cell']}: {Path(curve['run']).name} ({curve['recipe']})", lw=1.2)
    ax.set_xlabel("time step of the first recurrent layer's input")
    ax.set_ylabel("mean ||dL/dx_t||")
    ax.set_title("gradient of the loss with respect to each step's input", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    runs.save_figure(fig, path, dpi=120)
