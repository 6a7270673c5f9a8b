"""`zoo eval`: metrics of a trained run on any data set whose labels it knows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.load import load, load_run


def evaluate_run(run_dir: Path, families: Mapping[str, Family], data: str | None, split: str | None,
                 data_root: Path = Path("data"), beam: int = 1) -> dict:
    """Evaluates RUN's best model on `data` (default: its own data set).

    Writes `eval_{tag}.json` (and the family's plots) into the run.

    Args:
        run_dir: a trained run directory.
        families: the family table (name -> Family).
        data: `KIND[:PATH]`, or None for the data set the run trained on.
        split: `train`, `validation`, `test`, or None for all of it.
        data_root: where data sets are cached.
        beam: beam width, for families that decode word by word (1: greedy).
    """
    recipe, family, model = load_run(run_dir, families)
    family.require_beam(beam)
    recipe = family.with_data(recipe, data)
    result, tag = family.evaluate(recipe, model, family.load_meta(Path(run_dir)), Path(run_dir), data_root, split,
                                  beam)
    result.update(data=f"{recipe.data.source}:{recipe.data.path}", split=split or "all")
    runs.write_json(Path(run_dir) / f"eval_{tag}.json", result)
    return result


def evaluate_stream_run(run_dir: Path, families: Mapping[str, Family], recording: Path, truth: Path,
                        **options) -> dict:
    """Detection on a long recording against its true events (`zoo eval RUN --stream`).

    Writes `stream_{recording stem}.json` and the family's plots into the run.
    """
    run = load(run_dir, families)
    if run.recipe is None:
        raise ZooError(f"{run_dir}: --stream evaluates a run directory")
    options = {k: v for k, v in options.items() if v is not None}
    result = run.family.evaluate_stream(run, Path(recording), Path(truth), Path(run_dir), **options)
    runs.write_json(Path(run_dir) / f"stream_{Path(recording).stem}.json", result)
    return result
