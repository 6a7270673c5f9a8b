"""`zoo gates`: look inside a trained recurrent layer on one input.

Runs the input through the model up to a recurrent layer, then through that
layer with `zoo.nn.recurrent.tap_layer` (the textbook gate equations on the
trained weights), and draws every gate's activation per unit and time step
as heat maps aligned with the input: the waveform above for audio, the
characters or words along the axis for text, and a family's track above (say,
what each word does to a score). The raw values go to an `.npz`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import GateInput
from zoo.nn.recurrent import GATES, gate_layers, tap_gate_layer

RANGES = {"i": (0, 1), "f": (0, 1), "o": (0, 1), "z": (0, 1), "r": (0, 1), "g": (-1, 1), "candidate": (-1, 1),
          "h": (-1, 1)}


def select_layer(model, index: int | None):
    """The `index`-th recurrent layer (1-based; None: the first)."""
    layers = gate_layers(model)
    if not layers:
        raise ZooError(f"model {model.name} has no recurrent layer")
    if index is None:
        return 1, layers[0]
    if not 1 <= index <= len(layers):
        raise ZooError(f"--layer {index}: the model has {len(layers)} recurrent layer(s), 1 to {len(layers)}")
    return index, layers[index - 1]


def tap(model, gate_input: GateInput, index: int | None):
    """(layer number, `LayerTaps`) of one recurrent layer on the prepared input."""
    number, layer = select_layer(model, index)
    return number, tap_gate_layer(model, layer, gate_input.batch)


def save_npz(path: Path, taps, gate_input: GateInput) -> None:
    """Raw values: `{direction}_{gate}` arrays [time, units], the step labels, the layer output and the track."""
    arrays = {f"{'backward' if d.reverse else 'forward'}_{name}": values[0]
              for d in taps.directions for name, values in d.gates.items()}
    arrays.update(steps=np.asarray([str(s) for s in gate_input.steps]), output=taps.output[0])
    if gate_input.track is not None:
        arrays["track"] = np.asarray(gate_input.track[1], np.float32)
    with runs.atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)


def draw(path: Path, taps, gate_input: GateInput, title: str) -> None:
    """One heat map per gate and direction (units by time), aligned under the input."""
    rows = [(d, name) for d in taps.directions for name in GATES[d.kind]]
    has_top = gate_input.waveform is not None or gate_input.track is not None
    steps = len(gate_input.steps)
    height = 1.6 * (len(rows) + has_top) + 0.8
    width = max(8.0, 4 + 0.45 * steps) if gate_input.axis == "word" else 4 + 0.09 * steps
    fig = Figure(figsize=(min(width, 22), height))
    axes = fig.subplots(len(rows) + has_top, 1, squeeze=False, sharex=True)[:, 0]
    if gate_input.track is not None:
        name, values = gate_input.track
        axes[0].bar(range(steps), values, color=["tab:blue" if v >= 0 else "tab:red" for v in values])
        axes[0].axhline(0, color="k", lw=0.5)
        axes[0].set_title(name, fontsize=8, loc="left")
    if gate_input.waveform is not None:
        audio, rate = gate_input.waveform
        times = np.arange(len(audio)) / rate
        step_times = np.asarray(gate_input.steps, float)
        axes[0].plot(np.interp(times, step_times, np.arange(steps)), audio, lw=0.5, color="k")
        axes[0].set_ylabel("audio")
        axes[0].set_yticks([])
    if has_top:  # the heat maps' colour bars take width: an invisible one keeps the top row aligned with them
        fig.colorbar(ScalarMappable(), ax=axes[0], pad=0.01, fraction=0.02).ax.set_visible(False)
    for ax, (direction, name) in zip(axes[has_top:], rows):
        values = direction.gates[name][0].T  # [units, time]
        lo, hi = RANGES.get(name, (None, None))
        image = ax.imshow(values, aspect="auto", interpolation="nearest", origin="lower",
                          cmap="viridis" if lo == 0 else "RdBu_r", vmin=lo, vmax=hi)
        label = name + (" (backward)" if direction.reverse else "")
        ax.set_ylabel("unit", fontsize=8)
        ax.set_title(f"{label}: {GATES[direction.kind][name]}", fontsize=8, loc="left")
        fig.colorbar(image, ax=ax, pad=0.01, fraction=0.02)
        for step in gate_input.marks:
            ax.axvline(step, color="magenta", lw=0.8, ls="--")
    last = axes[-1]
    if gate_input.axis == "character":
        last.set_xticks(range(steps))
        last.set_xticklabels([repr(c)[1:-1] or " " for c in gate_input.steps], fontsize=7, family="monospace")
    elif gate_input.axis == "word":
        last.set_xticks(range(steps))
        last.set_xticklabels(gate_input.steps, fontsize=8, rotation=60, ha="right")
    else:
        ticks = sorted(set(np.linspace(0, steps - 1, min(steps, 11)).round().astype(int)) | set(gate_input.marks))
        last.set_xticks(ticks)
        labels = [gate_input.steps[t] for t in ticks]
        last.set_xticklabels([f"{s:.2f}" if isinstance(s, float) else str(s) for s in labels], fontsize=7)
    last.set_xlabel(gate_input.axis)
    fig.suptitle(title, fontsize=10)
    # Fixed margins: tight_layout would render the whole figure once more just to measure it.
    fig.subplots_adjust(left=0.07, right=0.95, top=1 - (0.95 if gate_input.track else 0.65) / height,
                        bottom=(1.0 if gate_input.axis == "word" else 0.55) / height, hspace=0.45)
    runs.save_figure(fig, path, dpi=90, format=None)

