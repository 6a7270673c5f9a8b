"""`zoo compare`: one recipe trained with each recurrent cell, over seeds, in one table and one chart.

"Try both and see which works better for your task": every run is the recipe
with only `model.cell` and `train.seed` changed, trained into `OUT/CELL_seedN`
(a finished run there with the same settings is reused, so an interrupted
comparison continues; one with other settings is refused). Each
run's checkpoint is the one its recipe keeps (`train.keep`, chosen on
validation); the table gives the family's headline figure on validation and on
test (mean and sample standard deviation over seeds), the parameter count, the
training time, and the float LiteRT file's size and latency (one thread).
Writes `compare.json`, `compare.md` and `compare.png` into OUT.

Example:
    >>> mean_sd([0.9, 1.0])
    (0.95, 0.0707)
    >>> flat({"name": "kws_gru_s_fsdd", "model": {"cell": "gru"}})
    {'name': 'kws_gru_s_fsdd', 'model.cell': 'gru'}
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from zoo.core import litert, runs
from zoo.core.errors import ZooError
from zoo.core.export import export_run
from zoo.core.family import Family
from zoo.core.recipe import Recipe
from zoo.core.train import train
from zoo.nn.cells import CELLS


def mean_sd(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (None with fewer than two values), rounded to 4 places."""
    if not values:
        return None, None
    sd = statistics.stdev(values) if len(values) > 1 else None
    return round(statistics.fmean(values), 4), None if sd is None else round(sd, 4)


def dig(metrics: dict, path: str | None):
    """The value at a dotted path of a run's metrics (None if absent)."""
    if not path:
        return None
    value = metrics
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def flat(tree: dict, prefix: str = "") -> dict:
    """A nested dict (a saved recipe) as {dotted key: value}."""
    out = {}
    for key, value in tree.items():
        out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def check_cells(recipe: Recipe, cells: Sequence[str]) -> None:
    """A one-line error unless `recipe` has a `model.cell` and every name in `cells` is a cell."""
    if "cell" not in {f.name for f in dataclasses.fields(recipe.model)}:
        raise ZooError(f"{recipe.name} has no model.cell to compare")
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise ZooError(f"--cells {','.join(cells)}: choose from {', '.join(CELLS)}")


def cell_run(recipe: Recipe, family: Family, cell: str, seed: int, out_dir: Path,
             data_root: Path) -> tuple[Path, dict, bool]:
    """(run directory, metrics, reused): `recipe` with `cell` and `seed` trained into `out_dir/CELL_seedN`, or
    the finished run already there."""
    run_dir = Path(out_dir) / f"{cell}_seed{seed}"
    variant = dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, cell=cell),
                                  train=dataclasses.replace(recipe.train, seed=seed))
    if not (run_dir / runs.METRICS).is_file():
        return run_dir, train(variant, family, run_dir, data_root, verbose=0), False
    saved, wanted = flat(runs.read_json(run_dir / runs.RECIPE)), flat(json.loads(json.dumps(variant.to_dict())))
    differ = [key for key in wanted if wanted[key] != saved.get(key)]
    if differ:
        raise ZooError(f"{run_dir}: a finished run with other settings ({', '.join(differ)}); "
                       "choose another folder for the runs, or remove it")
    return run_dir, runs.read_json(run_dir / runs.METRICS), True


def run_one(recipe: Recipe, family: Family, families: Mapping[str, Family], cell: str, seed: int,
            out_dir: Path, data_root: Path) -> dict:
    """Trains (or reuses) one run, exports its float LiteRT file and returns its row."""
    run_dir, metrics, reused = cell_run(recipe, family, cell, seed, out_dir, data_root)
    report = export_run(run_dir, families, "tflite", "none", data_root=data_root)
    head = family.headline
    return {"cell": cell, "seed": seed, "run": str(run_dir), "reused": reused,
            "validation": dig(metrics, head.validation), "test": dig(metrics, head.test),
            "params": metrics.get("params"), "train_seconds": metrics.get("train_seconds"),
            "litert_bytes": report["size_bytes"], "litert_ms": litert.call_latency_ms(Path(report["file"]))}


def summarize(rows: list[dict], cells: Sequence[str]) -> list[dict]:
    """One line per cell: mean and spread over its seeds."""
    lines = []
    for cell in cells:
        mine = [r for r in rows if r["cell"] == cell]
        val = mean_sd([r["validation"] for r in mine if r["validation"] is not None])
        test = mean_sd([r["test"] for r in mine if r["test"] is not None])
        lines.append({"cell": cell, "seeds": len(mine), "validation_mean": val[0], "validation_sd": val[1],
                      "test_mean": test[0], "test_sd": test[1], "params": mine[0]["params"],
                      "train_seconds_mean": round(statistics.fmean(r["train_seconds"] or 0.0 for r in mine)),
                      "litert_kb": round(mine[0]["litert_bytes"] / 1024, 1),
                      "litert_ms": statistics.median(r["litert_ms"] for r in mine)})
    return lines


def markdown(recipe_name: str, family: Family, lines: list[dict]) -> str:
    """The table as Markdown."""
    head = family.headline
    better = "higher" if head.higher_is_better else "lower"

    def cell(mean, sd):
        return "-" if mean is None else f"{mean:.4g}" + ("" if sd is None else f" ({sd:.2g})")

    rows = [f"`zoo compare {recipe_name}`: {head.name} ({better} is better), mean (sample sd) over seeds.", "",
            f"| cell | seeds | validation {head.name} | test {head.name} | parameters | train s | "
            "LiteRT KB | LiteRT ms |", "|---|---|---|---|---|---|---|---|"]
    rows += [f"| {x['cell']} | {x['seeds']} | {cell(x['validation_mean'], x['validation_sd'])} | "
             f"{cell(x['test_mean'], x['test_sd'])} | {x['params']:,} | {x['train_seconds_mean']} | "
             f"{x['litert_kb']} | {x['litert_ms']} |" for x in lines]
    return "\n".join(rows) + "\n"


def draw(path: Path, recipe_name: str, family: Family, rows: list[dict], lines: list[dict]) -> None:
    """The headline figure per cell (each seed a dot, the mean a bar) beside size and latency."""
    fig = Figure(figsize=(11, 3.6))
    axes = fig.subplots(1, 3)
    names = [x["cell"] for x in lines]
    for offset, split in ((-0.12, "validation"), (0.12, "test")):  # the figure's own scale: no bars from 0
        shown = [(i, x[f"{split}_mean"], x[f"{split}_sd"] or 0.0) for i, x in enumerate(lines)
                 if x[f"{split}_mean"] is not None]
        if not shown:
            continue
        index, means, sds = zip(*shown)
        axes[0].errorbar([i + offset for i in index], means, yerr=sds, fmt="o", capsize=4, label=f"{split} mean (sd)")
        for i in index:
            seeds = [r[split] for r in rows if r["cell"] == names[i] and r[split] is not None]
            axes[0].plot([i + offset] * len(seeds), seeds, "k.", ms=3, alpha=0.6)
    better = "higher" if family.headline.higher_is_better else "lower"
    axes[0].set_title(f"{family.headline.name} ({better} is better; dots: seeds)", fontsize=9)
    axes[0].legend(fontsize=8)
    for ax, key, title in ((axes[1], "litert_kb", "LiteRT size (KB)"), (axes[2], "litert_ms", "LiteRT ms per call")):
        ax.bar(names, [x[key] for x in lines], color="grey")
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set_xticks(range(len(names)), names)
    fig.suptitle(f"zoo compare {recipe_name}", fontsize=10)
    fig.tight_layout()
    runs.save_figure(fig, path, dpi=110)


def compare(recipe: Recipe, family: Family, families: Mapping[str, Family], cells: Sequence[str],
            seeds: int, out_dir: Path, data_root: Path) -> dict:
    """Trains `recipe` once per cell and seed (0..seeds-1) into `out_dir` and writes the comparison."""
    check_cells(recipe, cells)
    if seeds < 1:
        raise ZooError(f"--seeds {seeds}: at least 1")
    out_dir = Path(out_dir)
    rows = [run_one(recipe, family, families, cell, seed, out_dir, data_root)
            for cell in cells for seed in range(seeds)]
    lines = summarize(rows, cells)
    head = family.headline
    result = {"recipe": recipe.name, "metric": head.name, "higher_is_better": head.higher_is_better,
              "validation_key": head.validation, "test_key": head.test, "cells": lines, "runs": rows}
    runs.write_json(out_dir / "compare.json", result)
    with runs.atomic_path(out_dir / "compare.md") as tmp:
        tmp.write_text(markdown(recipe.name, family, lines), encoding="utf-8")
    draw(out_dir / "compare.png", recipe.name, family, rows, lines)
    return {"out": str(out_dir), "table": str(out_dir / "compare.md"), "chart": str(out_dir / "compare.png"),
            "cells": lines}
