"""The `zoo` command line: list, train, eval, export, predict.

Each command parses its arguments, calls one function and prints the result.
A `ZooError` (bad input) becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from zoo.errors import ZooError


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")


def handle_errors(fn):
    """Turns ZooError into `error: ...` on stderr and exit 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ZooError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="recurrent-zoo")
def main():
    """Recurrent Zoo: train, evaluate, export and run RNN/LSTM/GRU models."""
    _quiet_tensorflow()


@main.command("list")
@click.option("--params/--no-params", default=True, help="Build each model to count parameters.")
@handle_errors
def list_cmd(params):
    """Print the named recipes."""
    from zoo.families import get, registry

    rows = [("name", "family", "cell", "params", "data", "description")]
    for r in registry():
        count = "-"
        if params:
            family = get(r.family)
            count = f"{family.build(r, family.default_meta(r)).count_params():,}"
        cell = r.model.cell + ("+conv" if getattr(r.model, "conv_filters", 0) else "")
        rows.append((r.name, r.family, cell, count, r.data.source, r.description))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])


def _resolve(recipe_name: str, data: str | None, overrides):
    from zoo.families import get, registry
    from zoo.recipes import apply_overrides

    recipe = apply_overrides(registry().get(recipe_name), overrides)
    return get(recipe.family).parse_data_spec(data, recipe)


@main.command()
@click.argument("recipe")
@click.option("--data", help="KIND[:PATH], e.g. fsdd:../shared/data/fsdd/recordings (default: the recipe's).")
@click.option("--out", type=click.Path(path_type=Path), help="Run directory (default models/RECIPE/run).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.FIELD=VALUE",
              help="Override a recipe field, e.g. --set train.epochs=3 (repeatable).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True,
              help="Where data sets are downloaded, synthesized and cached.")
@handle_errors
def train(recipe, data, out, overrides, resume, data_root):
    """Train RECIPE into a self-contained run directory."""
    from zoo import training

    if resume and (overrides or data):
        raise ZooError("--resume continues the saved recipe; it takes no --set or --data")
    resolved = _resolve(recipe, data, overrides)
    run_dir = out or Path("models") / recipe / "run"
    metrics = training.train(resolved, run_dir, data_root=data_root, resume=resume,
                             verbose="auto" if sys.stdout.isatty() else 2)
    click.echo(json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}, indent=2))
    click.echo(f"run directory: {run_dir}")


@main.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--data", help="KIND[:PATH] to evaluate on (default: the run's own data set).")
@click.option("--split", type=click.Choice(["train", "validation", "test", "all"]), default="test",
              show_default=True)
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@handle_errors
def eval_cmd(run, data, split, data_root):
    """Evaluate a trained RUN directory; writes eval_*.json and a confusion matrix into it."""
    from zoo import evaluation

    result = evaluation.evaluate_run(run, data, None if split == "all" else split, data_root)
    click.echo(json.dumps(result, indent=2))


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["savedmodel", "tflite"]), default="tflite",
              show_default=True)
@click.option("--quantize", type=click.Choice(["none", "dynamic", "int8"]), default="none",
              show_default=True, help="LiteRT only: dynamic-range or full-integer int8.")
@click.option("--out", type=click.Path(path_type=Path), help="Output file or folder (default RUN/exports/...).")
@click.option("--data-root", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@handle_errors
def export(run, fmt, quantize, out, data_root):
    """Export RUN to a SavedModel or a builtins-only LiteRT file, and check it."""
    from zoo import export as exporter

    report = exporter.export_run(run, fmt, quantize, out, data_root)
    click.echo(json.dumps(report, indent=2))


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--top-k", default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
@handle_errors
def predict(model, files, top_k, as_json):
    """Run MODEL (a run directory, a SavedModel or a .tflite file) on wav FILES or folders."""
    from zoo import runtime

    loaded = runtime.load(model)
    failures = 0
    for result in runtime.predict_files(loaded, files, top_k):
        if "error" in result:
            failures += 1
            click.echo(f"error: {result['error']}", err=True)
        elif as_json:
            click.echo(json.dumps(result))
        else:
            top = "  ".join(f"{p['label']} {p['score']:.3f}" for p in result["top"])
            click.echo(f"{result['file']}: {top}")
    if failures:
        sys.exit(1)


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--prime", default="\n", show_default=repr("\n"), help="Text to read before generating.")
@click.option("--length", default=500, show_default=True, type=click.IntRange(min=0))
@click.option("--temperature", default=0.8, show_default=True, type=click.FloatRange(min=0.0),
              help="Softmax temperature; 0 is greedy.")
@click.option("--top-k", default=0, show_default=True, type=click.IntRange(min=0),
              help="Sample from the k most likely characters only (0: all).")
@click.option("--seed", default=0, show_default=True, help="Same seed, same text.")
@handle_errors
def generate(model, prime, length, temperature, top_k, seed):
    """Generate text with MODEL (a chargen run directory, SavedModel or .tflite file), streamed."""
    from zoo.families import chargen

    gen = chargen.generator(model)
    unknown = gen.vocab.unknown(prime)
    if unknown:
        click.echo(f"note: --prime has {len(unknown)} character(s) outside the vocabulary, read as unknown: "
                   f"{''.join(unknown)!r}", err=True)
    click.echo(prime, nl=False)
    for char in gen.stream(prime, length, temperature, top_k, seed):
        click.echo(char, nl=False)
        sys.stdout.flush()
    click.echo()


if __name__ == "__main__":
    main()
