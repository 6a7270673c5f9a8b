"""Reference-cell parity of a trained run on real inputs; prints one JSON object.

    python bench/parity.py --run RUN --wav ../shared/data/fsdd/recordings/*_0.wav
    python bench/parity.py --run RUN --text ../shared/data/text/tinyshakespeare.txt --chars 400

For every recurrent layer of the run's model, on each input (prepared as
`zoo gates` prepares it, the layer's input taken from the model's own graph):
the largest difference between the Keras layer's output and the NumPy
reference cells (`zoo.nn.reference`), and between every gate the core's taps
record (`zoo.nn.recurrent.tap_layer`) and the reference's (an LSTM's cell state, which is
unbounded, also relative to its size). For a stack of
unidirectional layers, also the core's packed-state stepping (`Stack.step`)
against the reference, step by step over the whole input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np

from zoo.core.errors import one_line_errors
from zoo.core.load import load_run
from zoo.families.registry import FAMILIES
from zoo.nn import reference
from zoo.nn.recurrent import Stack, directions, layer_input, recurrent_layers, tap_layer


def layer_parity(layer, x) -> dict:
    """Largest differences: the layer's output, every bounded gate and h, and (LSTM) the cell state c.

    c is unbounded (it integrates over the clip), so float32 leaves an absolute error that grows
    with its size; it is reported beside its largest magnitude and as a relative error.
    """
    ref_out = reference.run_layer(layer, x)
    keras_out = np.asarray(layer(x))
    taps = tap_layer(layer, x)
    result = {"keras_vs_reference": float(np.abs(keras_out - ref_out).max()), "taps_vs_reference": 0.0}
    for (sub, reverse), direction in zip(directions(layer), taps.directions):
        expected, _ = reference.run(reference.ReferenceCell.from_keras(sub), x, reverse=reverse)
        for gate, values in expected.items():
            diff = float(np.abs(direction.gates[gate] - values).max())
            if gate == "c":
                result["cell_state_vs_reference"] = max(result.get("cell_state_vs_reference", 0.0), diff)
                result["cell_state_max_abs"] = max(result.get("cell_state_max_abs", 0.0), float(np.abs(values).max()))
            else:
                result["taps_vs_reference"] = max(result["taps_vs_reference"], diff)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--wav", nargs="*", default=[], help="wav files (keyword models)")
    p.add_argument("--text", type=Path, help="a text file (text models); its last --chars characters are read")
    p.add_argument("--chars", type=int, default=400)
    args = p.parse_args()

    recipe, family, model = load_run(args.run, FAMILIES)
    meta = family.load_meta(args.run)
    sources = list(args.wav) or ([args.text.read_text(encoding="utf-8")[-args.chars:]] if args.text else [])
    if not sources:
        p.error("give --wav files or --text")
    layers = recurrent_layers(model)
    result = {"run": str(args.run), "recipe": recipe.name, "inputs": len(sources), "layers": {}}
    worst = {}
    for source in sources:
        batch = family.gate_input(recipe, meta, source).batch
        for number, layer in enumerate(layers, 1):
            x = layer_input(model, layer, batch)
            for key, value in layer_parity(layer, x).items():
                worst[(number, key)] = max(worst.get((number, key), 0.0), value)
        if all(not isinstance(layer, keras.layers.Bidirectional) and not layer.go_backwards for layer in layers):
            x = layer_input(model, layers[0], batch)
            stack, stepped = Stack(layers), []
            state = stack.zero_state(1)
            for t in range(x.shape[1]):
                y, state = stack.step(x[:, t], state)
                stepped.append(np.asarray(y))
            diff = float(np.abs(np.stack(stepped, 1) - reference.run_stack(layers, x)).max())
            worst[(0, "stack_step_vs_reference")] = max(worst.get((0, "stack_step_vs_reference"), 0.0), diff)
    for (number, key), value in sorted(worst.items()):
        name = "stack" if number == 0 else f"{number}:{layers[number - 1].name}"
        result["layers"].setdefault(name, {})[key] = value
    result["max_difference_bounded"] = max(v for (_, k), v in worst.items() if not k.startswith("cell_state"))
    cells = [(v, worst[(n, "cell_state_max_abs")]) for (n, k), v in worst.items() if k == "cell_state_vs_reference"]
    if cells:
        result["cell_state_relative"] = max(diff / size for diff, size in cells)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
