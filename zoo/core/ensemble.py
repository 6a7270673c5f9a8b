"""`zoo ensemble`: runs of one architecture (trained with different seeds, say) joined into one run.

The new run's model runs every member after one shared input and answers with
their mean probabilities; the family builds it (`Family.ensemble`) and copies
the members' weights in. It is then an ordinary, self-contained run: `zoo eval`,
`zoo export` (streaming too, for streaming families) and `zoo predict` read it
and nothing else. `ensemble.json` records where the members came from, and
`metrics.json` holds the ensemble's validation and test figures, measured as
training measures a run's best checkpoint.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.load import keras_model, load_run


def default_dir(recipe_name: str) -> Path:
    return Path("models") / recipe_name / "ensemble"


def ensemble_runs(run_dirs: list[Path], out: Path | None, families: Mapping[str, Family],
                  data_root: Path = Path("data")) -> tuple[dict, Path]:
    """Joins `run_dirs` into one run at `out` (default `models/RECIPE/ensemble`); returns (metrics, out).

    Every member must be a run of the same family with the same labels, and the family must
    accept its architecture; anything else is a one-line error, and `out` is not created.
    """
    run_dirs = [Path(d) for d in run_dirs]
    if len(run_dirs) < 2:
        raise ZooError("an ensemble joins two runs or more")
    loaded = [load_run(d, families) for d in run_dirs]
    family = loaded[0][1]
    if not family.capabilities.ensembles:
        raise ZooError(f"{run_dirs[0]}: {family.title} models cannot be joined into an ensemble")
    meta = family.load_meta(run_dirs[0])
    for run_dir, (_, other, _) in zip(run_dirs[1:], loaded[1:]):
        if other is not family:
            raise ZooError(f"{run_dir}: a {other.name} run cannot join {family.name} runs")
        if family.load_meta(run_dir) != meta:
            raise ZooError(f"{run_dir}: its labels differ from {run_dirs[0]}'s")
    recipe, model = family.ensemble([r for r, _, _ in loaded], [m for _, _, m in loaded], meta,
                                    [str(d) for d in run_dirs])
    out = Path(out or default_dir(recipe.name))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ZooError(f"{out}: exists; choose another --out")
    recipe_json = recipe.to_dict()
    splits = family.datasets(recipe, Path(data_root))  # a data set that fails to load leaves no run behind
    if splits.meta != meta:
        raise ZooError(f"{recipe.data.source}:{recipe.data.path}: its labels differ from the members' ({meta})")

    provenance = {"members": [str(d) for d in run_dirs],
                  "member_recipes": [r.to_dict() for r, _, _ in loaded],
                  "member_metrics": [_metrics_of(d) for d in run_dirs]}
    runs.create(out, recipe_json)
    try:
        return _write(out, family, recipe, model, splits, meta, provenance)
    except BaseException:  # nothing half-written is left behind
        shutil.rmtree(out, ignore_errors=True)
        raise


def _write(out: Path, family: Family, recipe, model, splits, meta, provenance: dict) -> tuple[dict, Path]:
    family.save_meta(out, meta)
    runs.write_json(out / "ensemble.json", provenance)
    with runs.atomic_path(out / runs.MODEL) as tmp:
        model.save(tmp)
    model = keras_model(out / runs.MODEL, family.custom_objects())
    model.compile(**family.compile_args(recipe))
    metrics = family.final_metrics(model, splits, out, recipe)
    metrics.update(params=int(model.count_params()), recipe=recipe.name, members=len(provenance["members"]))
    runs.write_json(out / runs.METRICS, metrics)
    return metrics, out


def _metrics_of(run_dir: Path) -> dict:
    """A member's scalar metrics (for `ensemble.json`); empty if it has none."""
    path = run_dir / runs.METRICS
    if not path.is_file():
        return {}
    return {k: v for k, v in runs.read_json(path).items() if isinstance(v, (int, float, str))}
