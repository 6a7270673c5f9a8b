"""The `zoo` command line: list, train, compare, ensemble, eval, export, predict, listen, generate, caption, gates,
gradients.

Each command parses its arguments, calls one function of `zoo.api` and prints
the result. `zoo.api` loads TensorFlow, so it is imported when a command runs,
never for `--help` or `list`. A `ZooError` (bad input) becomes one line on
stderr and exit status 1; TensorFlow's native start-up logging is kept off
the terminal unless `--verbose` is given.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from zoo.core import logs
from zoo.core.errors import ZooError, one_line_errors
from zoo.core.family import QUANTIZE_MODES
from zoo.core.recipe import STRATEGIES
from zoo.families.kws.listen import DetectorSettings
from zoo.families.registry import FAMILIES, registry, resolve

DETECTOR = DetectorSettings()  # `zoo listen`'s defaults, shown in its help


def api():
    """The Python API (loads TensorFlow on first use)."""
    return importlib.import_module("zoo.api")


def _print_results(results, as_json: bool, line) -> None:
    """One line per input (`line(result)`, or JSON); failed inputs as `error:` lines on stderr and exit 1."""
    failures = 0
    for result in results:
        if "error" in result:
            failures += 1
            click.echo(f"error: {result['error']}", err=True)
        else:
            click.echo(json.dumps(result) if as_json else line(result))
    if failures:
        sys.exit(1)


def _print_metrics(result: dict, as_json: bool) -> None:
    """The whole result as one JSON object, or its scalar figures one per line."""
    if as_json:
        click.echo(json.dumps(result))
        return
    scalars = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
    width = max(map(len, scalars), default=0)
    for key, value in scalars.items():
        click.echo(f"{key.ljust(width)}  {value:.4g}" if isinstance(value, float) else f"{key.ljust(width)}  {value}")
    click.echo("(per-class and other details: --json, or the eval_*.json / stream_*.json file in the run)")


def command_line(*args) -> list[str]:
    """The argv that runs `zoo ARGS` in a new process: the `zoo` command installed beside this Python, or
    `python -m zoo.cli` (for benchmarks and tests that run the real command).

    Example:
        >>> command_line("list")[-1]
        'list'
    """
    command = Path(sys.executable).with_name("zoo")
    return ([str(command)] if command.exists() else [sys.executable, "-m", "zoo.cli"]) + [str(a) for a in args]


def _print_run(metrics: dict, run_dir: Path) -> None:
    """A new run's scalar metrics as JSON, then its directory."""
    click.echo(json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}, indent=2))
    click.echo(f"run directory: {run_dir}")


def _by_family(attribute: str) -> str:
    return "; ".join(f"{f.name}: {', '.join(getattr(f.capabilities, attribute))}" for f in FAMILIES.values())


@click.group()
@click.version_option(package_name="recurrent-zoo")
@click.option("--verbose", is_flag=True, help="Show TensorFlow's native logging too.")
def main(verbose):
    """Recurrent Zoo: train, evaluate, export and run RNN/LSTM/GRU models."""
    logs.quiet_environment()
    if not verbose and sys.stderr is sys.__stderr__:  # a real process, not a test runner's capture
        logs.silence_native_stderr()


@main.command("list")
@one_line_errors
def list_cmd():
    """Print the named recipes (parameters counted without building them)."""
    rows = [("name", "family", "cell", "params", "streams", "data", "description")]
    for r in registry():
        cell = r.model.cell + ("+conv" if getattr(r.model, "conv_filters", 0) else "")
        params = f"{FAMILIES[r.family].count_params(r):,}"
        streams = "yes" if FAMILIES[r.family].stream_blocker(r) is None else "-"
        rows.append((r.name, r.family, cell, params, streams, r.data.source, r.description))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])


@main.command()
@click.argument("recipe")
@click.option("--data", help="KIND[:PATH], e.g. fsdd:../shared/data/fsdd/recordings (default: the recipe's).")
@click.option("--out", type=click.Path(path_type=Path), help="Run directory (default models/RECIPE/run).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.FIELD=VALUE",
              help="Override a recipe field, e.g. --set train.epochs=3 (repeatable).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last whole checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run directory (once the data has loaded).")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True,
              help="Where data sets are downloaded, synthesized and cached.")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="one", show_default=True,
              help="tf.distribute strategy: one device, mirrored over local GPUs, or multiworker over the "
                   "cluster in TF_CONFIG (every worker runs the same command; only the chief writes). "
                   "auto picks by TF_CONFIG and the GPUs present.")
@one_line_errors
def train(recipe, data, out, overrides, resume, overwrite, data_root, strategy):
    """Train RECIPE into a self-contained run directory."""
    if resume and (overrides or data or overwrite):
        raise ZooError("--resume continues the saved recipe; it takes no --set, --data or --overwrite")
    resolved = resolve(recipe, data, overrides)
    metrics, run_dir = api().train(resolved, out, data_root=data_root, resume=resume, overwrite=overwrite,
                                   verbose="auto" if sys.stdout.isatty() else 2, strategy=strategy)
    if "worker_trained_seconds" in metrics:  # a worker other than the chief: it wrote nothing
        click.echo(json.dumps(metrics, indent=2))
        return
    _print_run(metrics, run_dir)


@main.command()
@click.argument("recipe")
@click.option("--cells", default="rnn,lstm,gru", show_default=True, help="Comma-separated cells to train.")
@click.option("--seeds", default=3, show_default=True, type=int, help="Seeds 0..N-1 for each cell.")
@click.option("--data", help="KIND[:PATH] (default: the recipe's).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.FIELD=VALUE",
              help="Override a recipe field for every run (repeatable).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Where runs and tables go (default models/RECIPE/compare).")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@one_line_errors
def compare(recipe, cells, seeds, data, overrides, out, data_root):
    """Train RECIPE with each cell over seeds; write one table (compare.md, compare.json) and one chart:
    its metric on validation and test (mean, spread), parameters, training time, LiteRT size and latency.
    Finished runs in OUT are reused, so an interrupted comparison continues."""
    resolved = resolve(recipe, data, overrides)
    result = api().compare(resolved, [c.strip() for c in cells.split(",") if c.strip()], seeds, out, data_root)
    click.echo(Path(result["table"]).read_text(encoding="utf-8"), nl=False)
    click.echo(f"written: {result['table']}, {result['chart']}, {Path(result['out']) / 'compare.json'}")


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="The new run (default models/RECIPE/ensemble).")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@one_line_errors
def ensemble(runs, out, data_root):
    """Join RUNS of one architecture (seeds, say) into one run that averages their probabilities."""
    metrics, run_dir = api().ensemble(list(runs), out, data_root=data_root)
    _print_run(metrics, run_dir)


@main.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--data", help="KIND[:PATH] to evaluate on (default: the run's own data set).")
@click.option("--split", type=click.Choice(["train", "validation", "test", "all"]), default="test",
              show_default=True)
@click.option("--beam", default=1, show_default=True, type=int,
              help="Beam width for models that decode word by word (1: greedy).")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@click.option("--stream", "recording", type=click.Path(path_type=Path),
              help="A long recording to detect keywords in (streaming runs); needs --events.")
@click.option("--events", type=click.Path(path_type=Path), help="The recording's true events (JSON).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0),
              help="Detection threshold for --stream.  [default: as zoo listen]")
@click.option("--windows", type=click.IntRange(min=0), help="For --stream: as `zoo listen --windows`.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as one JSON object.")
@one_line_errors
def eval_cmd(run, data, split, beam, data_root, recording, events, threshold, windows, as_json):
    """Evaluate a trained RUN directory; writes eval_*.json (and plots) into it.

    With --stream LONG.wav --events TRUTH.json: recall and false alarms per hour of
    keyword detection, and their curve over thresholds (stream_*.json, stream_*.png)."""
    if recording or events:
        if not (recording and events):
            raise ZooError("--stream and --events go together")
        result = api().evaluate_stream(run, recording, events, threshold=threshold, windows=windows)
        result = {k: v for k, v in result.items() if k != "curve"}
    else:
        result = api().evaluate(run, data, None if split == "all" else split, data_root, beam=beam)
    _print_metrics(result, as_json)


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["savedmodel", "tflite"]), default="tflite",
              show_default=True)
@click.option("--quantize", type=click.Choice(QUANTIZE_MODES), default="none", show_default=True,
              help=f"LiteRT only; what each family supports: {_by_family('quantize')}.")
@click.option("--out", type=click.Path(path_type=Path), help="Output file or folder (default RUN/exports/...).")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@click.option("--streaming", is_flag=True,
              help="Export the one-hop step model (audio hop and state in, scores and state out) of a causal recipe.")
@one_line_errors
def export(run, fmt, quantize, out, data_root, streaming):
    """Export RUN to a SavedModel or a builtins-only LiteRT file, and check it against the run."""
    click.echo(json.dumps(api().export(run, fmt, quantize, out, data_root, streaming), indent=2))


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--text", "texts", multiple=True, help="A text to classify (text models; repeatable), instead of FILES.")
@click.option("--top-k", default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input.")
@one_line_errors
def predict(model, files, texts, top_k, as_json):
    """Run MODEL (a run directory, a SavedModel or a .tflite file) on FILES: wavs or folders of them for keyword
    models, sequence files (.npy, .csv) for memory models, text files (one text a line) for sentiment models."""
    if texts and files:
        raise ZooError("give FILES or --text, not both")
    if texts:
        classifier = api().load_for_text(model, "predict")
        _print_results(classifier.predict(list(texts)), as_json, classifier.describe)
        return
    if not files:
        raise ZooError("give one or more FILES (or --text for a text model)")
    spotter = api().load(model, verb="predict")
    _print_results(spotter.predict_files(files, top_k), as_json, spotter.describe)


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--threshold", type=click.FloatRange(0.0, 1.0),
              help=f"Smoothed probability a keyword must exceed.  [default: {DETECTOR.threshold}]")
@click.option("--window", type=click.FloatRange(min=0.0),
              help=f"Posterior smoothing window, seconds.  [default: {DETECTOR.window_seconds}]")
@click.option("--suppress", type=click.FloatRange(min=0.0),
              help=f"Seconds before the same keyword is reported again.  [default: {DETECTOR.suppress_seconds}]")
@click.option("--windows", type=click.IntRange(min=0),
              help="0: one state runs through the recording; K: K staggered states, each reset every clip length.  "
                   f"[default: {DETECTOR.windows}]")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@one_line_errors
def listen(model, files, threshold, window, suppress, windows, as_json):
    """Detect keywords in wav FILES of any length with a streaming MODEL (a causal run directory or a
    `zoo export --streaming` file): one line per event, time in seconds. Unset options take the
    family's detector settings (the defaults shown)."""
    spotter = api().load(model, verb="listen")
    given = {"threshold": threshold, "window_seconds": window, "suppress_seconds": suppress, "windows": windows}
    _print_results(spotter.listen(files, **{k: v for k, v in given.items() if v is not None}), as_json,
                   lambda r: f"{r['file']}: {r['time']:9.2f} s  {r['keyword']}  {r['score']:.3f}")


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--prime", default="\n", show_default=repr("\n"), help="Text to read before generating.")
@click.option("--length", default=500, show_default=True, type=click.IntRange(min=0))
@click.option("--temperature", default=0.8, show_default=True, type=click.FloatRange(min=0.0),
              help="Softmax temperature; 0 is greedy.")
@click.option("--top-k", default=0, show_default=True, type=click.IntRange(min=0),
              help="Sample from the k most likely characters only (0: all).")
@click.option("--seed", default=0, show_default=True, help="Same seed, same text.")
@one_line_errors
def generate(model, prime, length, temperature, top_k, seed):
    """Generate text with MODEL (a text run directory, SavedModel or .tflite file), streamed."""
    gen = api().load(model, verb="generate")
    unknown = gen.vocab.unknown(prime)
    if unknown:
        click.echo(f"note: --prime has {len(unknown)} character(s) outside the vocabulary, read as unknown: "
                   f"{''.join(unknown)!r}", err=True)
    click.echo(prime, nl=False)
    for char in gen.stream(prime, length, temperature, top_k, seed):
        click.echo(char, nl=False)
        sys.stdout.flush()
    click.echo()


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--beam", default=1, show_default=True, type=click.IntRange(min=1), help="Beam width (1: greedy).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input.")
@one_line_errors
def caption(model, inputs, beam, as_json):
    """Describe clips with MODEL (a run directory, SavedModel or .tflite file): INPUTS are features
    .npy files, folders of frame images or video files."""
    captioner = api().load(model, verb="caption")
    _print_results(captioner.caption(inputs, beam=beam), as_json, lambda r: f"{r['input']}: {r['caption']}")


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("input")
@click.option("--layer", type=int, help="Which recurrent layer, from 1 (default: the first).")
@click.option("--out", type=click.Path(path_type=Path), help="The figure (default RUN/gates.png).")
@click.option("--npz", type=click.Path(path_type=Path), help="Also write the raw values here.")
@one_line_errors
def gates(run, input, layer, out, npz):
    """Draw a recurrent layer's gates on INPUT: a wav for keyword models, text for text models,
    a clip for captioning models (their frame encoder)."""
    click.echo(json.dumps(api().gates(run, input, layer, out, npz), indent=2))


@main.command()
@click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--recipe", help="Instead of RUNS: this recipe's seed-0 run of each of --cells (trained if needed).")
@click.option("--cells", default="rnn,lstm,gru", show_default=True, help="With --recipe: the cells.")
@click.option("--data", help="With --recipe: KIND[:PATH] (default: the recipe's).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.FIELD=VALUE", help="With --recipe: overrides.")
@click.option("--runs-dir", type=click.Path(path_type=Path),
              help="With --recipe: where its runs are (default models/RECIPE/compare, shared with zoo compare).")
@click.option("--out", type=click.Path(path_type=Path),
              help="The figure (default RUN/gradients.png for one run, RUNS_DIR/gradients.png with --recipe); "
                   "the curves go beside it as .json.")
@click.option("--inputs", default=256, show_default=True, type=click.IntRange(min=1),
              help="Validation inputs to average over, per run.")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@one_line_errors
def gradients(runs, recipe, cells, data, overrides, runs_dir, out, inputs, data_root):
    """The vanishing gradient, measured on trained RUNS (or --recipe R --cells rnn,lstm,gru): per time step,
    the norm of the loss's gradient with respect to the first recurrent layer's input, averaged over
    validation inputs, one log-scale curve a run."""
    resolved = resolve(recipe, data, overrides) if recipe else None
    if not recipe and (data or overrides):
        raise ZooError("--data and --set go with --recipe")
    result = api().gradients(runs, out, data_root, inputs, recipe=resolved,
                             cells=[c.strip() for c in cells.split(",") if c.strip()], runs_dir=runs_dir)
    click.echo(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
