"""The Python API: everything the `zoo` command does, for scripts.

`resolve` (a recipe with overrides) comes from `zoo.families.registry`.

Example:
    >>> import zoo
    >>> "kws_gru_s_fsdd" in zoo.recipes().names()
    True

Inference on a trained run, an exported SavedModel or a LiteRT file (with its
sidecar) goes through `zoo.load`, which returns the family's object: a
`KeywordModel` (`predict`) for keyword spotters, a `Generator` (`generate`,
`stream`) for text models, a `Captioner` (`caption`) for captioning models, a
`TextClassifier` (`predict`, on texts) for sentiment models and an `Adder`
(`predict`, on sequences) for the adding problem::

    spotter = zoo.load("models/kws_gru_s_fsdd/run/exports/model_int8.tflite")
    spotter.predict(["yes.wav", "recordings/"], top_k=3)
    writer = zoo.load("models/chargen_gru_s_shakespeare/run")
    writer.generate("ROMEO:", length=200, temperature=0.8, seed=0)
    captioner = zoo.load("models/caption_s2vt_lstm_shapes/run/exports/model_float.tflite")
    captioner.caption(["clip.mp4", "frames_folder/", "features.npy"], beam=3)
    classifier = zoo.load("models/sentiment_bilstm_s_sst2/compare/lstm_seed0")
    classifier.predict(["this was a perfectly balanced breakfast"])
"""

from __future__ import annotations

import time
from pathlib import Path

from zoo.core import compare as core_compare
from zoo.core import ensemble as core_ensemble
from zoo.core import evaluate as core_evaluate
from zoo.core import export as core_export
from zoo.core import gates as core_gates
from zoo.core import gradients as core_gradients
from zoo.core import runs
from zoo.core import train as core_train
from zoo.core.errors import ZooError
from zoo.core.load import load as load_model
from zoo.core.load import load_run
from zoo.core.recipe import Recipe, Registry
from zoo.families.registry import FAMILIES, get, registry


def recipes() -> Registry:
    """Every named recipe, in one registry (`.names()`, `.get(name)`)."""
    return registry()


def load(path, verb: str | None = None):
    """Loads a run directory, a SavedModel or a `.tflite` file for inference.

    Returns the family's inference object: it has the verbs its family's
    `capabilities.verbs` name (`predict` for keyword spotters, `generate` for
    text models). With `verb`, a model whose family lacks it is an error.
    Errors are `zoo.core.errors.ZooError` with one line that names the file
    and the cause.
    """
    run = load_model(Path(path), FAMILIES)
    if verb:
        run.family.require_verb(verb, Path(path))
    return run.family.inference(run)


def load_for_text(path, verb: str):
    """`load(path, verb)` for a model that reads text given as strings (`zoo predict --text`); a model of
    another input kind is a one-line error."""
    run = load_model(Path(path), FAMILIES)
    run.family.require_verb(verb, Path(path))
    kind = run.family.capabilities.input_kind
    if kind != "text":
        raise ZooError(f"{path}: a {run.family.name} model reads {kind} files, not --text")
    return run.family.inference(run)


def train(recipe: Recipe, run_dir: Path | None = None, data_root: Path = Path("data"), resume: bool = False,
          verbose="auto", overwrite: bool = False, strategy: str = "one") -> tuple[dict, Path]:
    """Trains a resolved recipe (see `resolve`); returns (metrics, run directory).

    With `resume`, continues `run_dir` from its last checkpoint with the recipe saved there; with
    `overwrite`, replaces an existing run directory. `strategy`: see `zoo.core.distributed`.
    """
    run_dir = Path(run_dir or runs.default_dir(recipe.name))
    metrics = core_train.train(recipe, get(recipe.family), run_dir, data_root=Path(data_root), resume=resume,
                               verbose=verbose, overwrite=overwrite, strategy=strategy)
    return metrics, run_dir


def compare(recipe: Recipe, cells=("rnn", "lstm", "gru"), seeds: int = 3, out: Path | None = None,
            data_root: Path = Path("data")) -> dict:
    """Trains a resolved recipe once per cell and seed into `out` (default `models/RECIPE/compare`) and writes
    one table (`compare.md`, `compare.json`) and one chart (`compare.png`); returns their paths and rows."""
    out = Path(out or _compare_dir(recipe))
    return core_compare.compare(recipe, get(recipe.family), FAMILIES, list(cells), seeds, out, Path(data_root))


def ensemble(run_dirs: list[Path], out: Path | None = None, data_root: Path = Path("data")) -> tuple[dict, Path]:
    """Joins runs of one architecture (different seeds, say) into one run whose model answers with their
    mean probabilities; returns (its metrics, its directory, default `models/RECIPE/ensemble`)."""
    return core_ensemble.ensemble_runs([Path(d) for d in run_dirs], out, FAMILIES, Path(data_root))


def evaluate(run_dir: Path, data: str | None = None, split: str | None = "test",
             data_root: Path = Path("data"), beam: int = 1) -> dict:
    """Metrics of a run on its own data (or `data`), for a split (None: all); `beam` for captioning."""
    return core_evaluate.evaluate_run(Path(run_dir), FAMILIES, data, split, Path(data_root), beam)


def evaluate_stream(run_dir: Path, recording: Path, truth: Path, **options) -> dict:
    """Keyword detection of a streaming run on a long recording: recall and false alarms per hour
    at a threshold and over a sweep of thresholds (`zoo eval --stream`). `options` are the family's
    detector settings (for keyword models `threshold`, `windows`, ...; None leaves a default)."""
    return core_evaluate.evaluate_stream_run(Path(run_dir), FAMILIES, Path(recording), Path(truth), **options)


def export(run_dir: Path, fmt: str = "tflite", quantize: str = "none", out: Path | None = None,
           data_root: Path = Path("data"), streaming: bool = False) -> dict:
    """Exports a run (`savedmodel` or `tflite`, `quantize` as its family allows) and checks the export;
    `streaming` exports the one-hop step model of a causal recipe."""
    return core_export.export_run(Path(run_dir), FAMILIES, fmt, quantize, out, Path(data_root), streaming)


def gradients(run_dirs=(), out: Path | None = None, data_root: Path = Path("data"), inputs: int = 256,
              recipe: Recipe | None = None, cells=("rnn", "lstm", "gru"), runs_dir: Path | None = None) -> dict:
    """The vanishing gradient measured: per time step, the norm of the loss's gradient with respect to the
    first recurrent layer's input, averaged over up to `inputs` validation inputs of each run, drawn on
    one log-scale figure (`out`; default `RUN/gradients.png` for one run) with the curves as JSON beside it.

    With a resolved `recipe` instead of runs: its seed-0 run of each of `cells`, trained into `runs_dir`
    (default `models/RECIPE/compare`, where `compare` puts them) unless finished there already; the
    figure defaults to `runs_dir/gradients.png`."""
    if recipe is not None:
        if run_dirs:
            raise ZooError("give runs or --recipe, not both")
        family = get(recipe.family)
        runs_dir = Path(runs_dir or _compare_dir(recipe))
        core_compare.check_cells(recipe, cells)
        run_dirs = [core_compare.cell_run(recipe, family, cell, 0, runs_dir, Path(data_root))[0] for cell in cells]
        out = out or runs_dir / "gradients.png"
    if not run_dirs:
        raise ZooError("give one or more runs, or --recipe")
    return core_gradients.measure_runs([Path(r) for r in run_dirs], FAMILIES, out, Path(data_root), inputs)


def _compare_dir(recipe: Recipe) -> Path:
    return Path(runs.default_dir(recipe.name)).parent / "compare"


def gates(run_dir: Path, source: str, layer: int | None = None, out: Path | None = None,
          npz: Path | None = None) -> dict:
    """Draws the gates of a run's recurrent layer on one input (a wav path, or text for text models).

    Writes the figure to `out` (default `RUN/gates.png`) and the raw values to
    `npz` if given; returns what it wrote and how long it took.
    """
    start = time.perf_counter()
    recipe, family, model = load_run(Path(run_dir), FAMILIES)
    meta = family.load_meta(Path(run_dir))
    gate_input = family.annotate_gates(model, recipe, meta, family.gate_input(recipe, meta, source))
    number, taps = core_gates.tap(model, gate_input, layer)
    out = Path(out or Path(run_dir) / "gates.png")
    if out.suffix.lower() != ".png":
        raise ZooError(f"{out}: the figure is a PNG; name it .png")
    what = "text" if family.capabilities.input_kind == "text" else Path(source).name
    core_gates.draw(out, taps, gate_input, f"{recipe.name}: recurrent layer {number} ({taps.name}) on {what}")
    if npz:
        core_gates.save_npz(Path(npz), taps, gate_input)
    return {"figure": str(out), "npz": str(npz) if npz else None, "layer": number, "layer_name": taps.name,
            "steps": len(gate_input.steps), "seconds": round(time.perf_counter() - start, 2)}
