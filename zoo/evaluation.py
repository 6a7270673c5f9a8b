"""`zoo eval`: metrics of a trained run on any data set whose labels it knows."""

from __future__ import annotations

from pathlib import Path

from zoo import runs, runtime


def evaluate_run(run_dir: Path, data: str | None, split: str | None, data_root: Path = Path("data")) -> dict:
    """Evaluates RUN's best model on `data` (default: its own data set).

    Writes `eval_{source}_{split}.json` (and the family's plots) into the run.

    Args:
        run_dir: a trained run directory.
        data: `KIND[:PATH]`, or None for the data set the run trained on.
        split: `train`, `validation`, `test`, or None for every clip.
        data_root: where data sets are cached.
    """
    recipe, family, model = runtime.load_keras(run_dir)
    recipe = family.parse_data_spec(data, recipe)
    result, tag = family.evaluate_run(recipe, model, family.load_meta(Path(run_dir)), Path(run_dir),
                                      data_root, split)
    result.update(data=f"{recipe.data.source}:{recipe.data.path}", split=split or "all")
    runs.write_json(Path(run_dir) / f"eval_{tag}.json", result)
    return result
