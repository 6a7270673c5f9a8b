"""The adding problem at several lengths, every cell under one budget; prints one JSON object.

    python bench/memory.py [--lengths 10,50,100,200] [--cells rnn,lstm,gru] [--seeds 3]
                           [--out models/memory_lstm_s_adding/sweep] [--set KEY=VALUE ...]

For each length T, `zoo compare memory_lstm_s_adding --set data.length=T` trains
every cell and seed (the recipe's budget: 9,000 steps of 64 fresh sequences)
into OUT/T{T}/CELL_seedN and writes its own table there. Finished runs with the
same settings are reused, so shells that train different cells or lengths at
once, then one call over everything, build the whole table. Writes
OUT/memory.md, OUT/memory.json and OUT/memory.png: test accuracy (within 0.04
of the true sum), mean and sample sd over seeds, against T, one line per cell,
with validation accuracy and mean squared error beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from matplotlib.figure import Figure

import zoo
from zoo.core import runs
from zoo.core.errors import one_line_errors
from zoo.families.registry import resolve

RECIPE = "memory_lstm_s_adding"


def spread(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def sweep(lengths: list[int], cells: list[str], seeds: int, out: Path, overrides: list[str]) -> list[dict]:
    """One row per (T, cell): test and validation accuracy and test MSE over seeds, parameters, seconds."""
    rows = []
    for length in lengths:
        recipe = resolve(RECIPE, overrides=[*overrides, f"data.length={length}"])
        table = zoo.compare(recipe, cells, seeds=seeds, out=out / f"T{length}")
        for line in table["cells"]:
            metrics = [runs.read_json(Path(out / f"T{length}" / f"{line['cell']}_seed{s}" / runs.METRICS))
                       for s in range(seeds)]
            mse = spread([m["test_mse"] for m in metrics])
            rows.append({"length": length, "cell": line["cell"], "seeds": seeds,
                         "test_accuracy": [m["test_accuracy"] for m in metrics],
                         "test_mean": line["test_mean"], "test_sd": line["test_sd"],
                         "validation_mean": line["validation_mean"], "validation_sd": line["validation_sd"],
                         "test_mse_mean": round(mse[0], 5), "test_mse_sd": None if mse[1] is None else round(mse[1], 5),
                         "params": line["params"], "train_seconds_mean": line["train_seconds_mean"]})
    return rows


def markdown(rows: list[dict], seeds: int) -> str:
    def pct(mean, sd):
        return f"{100 * mean:.1f} %" + ("" if sd is None else f" ({100 * sd:.1f})")

    lines = [f"Adding problem, test accuracy (answer within 0.04 of the sum), mean (sd) over {seeds} seeds; "
             "test MSE (always answering 1 scores 0.167).", "",
             "| T | cell | test accuracy | validation accuracy | test MSE | parameters | train s |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['length']} | {r['cell']} | {pct(r['test_mean'], r['test_sd'])} | "
              f"{pct(r['validation_mean'], r['validation_sd'])} | {r['test_mse_mean']:.4f} | {r['params']:,} | "
              f"{r['train_seconds_mean']} |" for r in rows]
    return "\n".join(lines) + "\n"


def draw(path: Path, rows: list[dict]) -> None:
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    for cell in dict.fromkeys(r["cell"] for r in rows):
        mine = [r for r in rows if r["cell"] == cell]
        ax.errorbar([r["length"] for r in mine], [100 * r["test_mean"] for r in mine],
                    yerr=[100 * (r["test_sd"] or 0.0) for r in mine], marker="o", capsize=4, label=cell)
        for r in mine:
            ax.plot([r["length"]] * len(r["test_accuracy"]), [100 * a for a in r["test_accuracy"]], "k.", ms=3,
                    alpha=0.5)
    ax.set_xscale("log")
    lengths = sorted({r["length"] for r in rows})
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.set_xlabel("sequence length T (the first marked value is kept for T/2 steps or more)")
    ax.set_ylabel("test accuracy, %")
    ax.set_ylim(-3, 103)
    ax.legend(title="cell")
    ax.set_title("Adding problem, 9,000 steps each: mean (sd) over seeds; dots: seeds", fontsize=9)
    fig.tight_layout()
    with runs.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", default="10,50,100,200")
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(f"models/{RECIPE}/sweep"))
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    rows = sweep(lengths, args.cells.split(","), args.seeds, args.out, args.overrides)
    runs.write_json(args.out / "memory.json", {"recipe": RECIPE, "overrides": args.overrides, "rows": rows})
    with runs.atomic_path(args.out / "memory.md") as tmp:
        tmp.write_text(markdown(rows, args.seeds), encoding="utf-8")
    draw(args.out / "memory.png", rows)
    print(json.dumps({"table": str(args.out / "memory.md"), "figure": str(args.out / "memory.png"), "rows": rows},
                     indent=2))


if __name__ == "__main__":
    one_line_errors(main)()
