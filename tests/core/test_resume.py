"""Crash-safe runs: a run resumed from what a crash leaves on disk ends exactly as an uninterrupted one.

What a process killed after epoch 2 wrote its history row and kept model, but before its checkpoint, leaves
is made here without a kill (the checkpoint of epoch 3 is deleted after training): the state on disk is the
same, and the test is deterministic. Killing real processes at random moments is `bench/kill_resume.py`.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import zoo
from zoo.core.errors import ZooError
from zoo.core.recipe import apply_overrides
from zoo.families.registry import FAMILIES, registry


def _recipe(family, folder):
    recipe = family.tiny(next(r for r in registry() if r.family == family.name))
    recipe = apply_overrides(recipe, ["train.epochs=3", "train.deterministic=True", "train.max_seconds=0",
                                      "train.schedule='cosine'"])  # a budget in seconds is not reproducible
    return family.with_data(recipe, family.sample_data(folder, recipe))


def _state(path):
    with np.load(path) as z:
        return [z[k] for k in sorted(z.files)]


def _epochs(run):
    with open(run / "history.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_resumed_run_ends_as_an_uninterrupted_one(name, tmp_path, capsys):
    family = FAMILIES[name]
    recipe = _recipe(family, tmp_path / "data")
    run = tmp_path / "run"
    zoo.train(recipe, run, data_root=tmp_path / "root", verbose=0)
    final = run / "checkpoints" / "epoch-0003.npz"
    expected = _state(final)
    assert _epochs(run) == [0, 1, 2] and sorted(p.name for p in final.parent.iterdir()) == [
        "epoch-0002.npz", "epoch-0003.npz"]

    final.unlink()  # killed after epoch 3's history row, before its checkpoint, while writing the model
    stale = run / "model.tmp-999999999-0123abcd.keras"
    stale.write_bytes(b"PK half a model")
    zoo.train(recipe, run, data_root=tmp_path / "root", resume=True, verbose=0)
    assert _epochs(run) == [0, 1, 2] and not stale.exists()
    for a, b in zip(expected, _state(final), strict=True):
        np.testing.assert_array_equal(a, b)

    final.unlink()  # and the checkpoint before it cut short: reported, and training starts again
    (run / "checkpoints" / "epoch-0002.npz").write_bytes(b"PK\x03\x04 cut short")
    zoo.train(recipe, run, data_root=tmp_path / "root", resume=True, verbose=0)
    assert "epoch-0002.npz: unreadable checkpoint" in capsys.readouterr().err
    assert _epochs(run) == [0, 1, 2]
    for a, b in zip(expected, _state(final), strict=True):
        np.testing.assert_array_equal(a, b)

    metrics, _ = zoo.train(recipe, run, data_root=tmp_path / "root", resume=True, verbose=0)  # nothing left
    assert _epochs(run) == [0, 1, 2] and metrics["epochs_run"] == 3 and not metrics["stopped_by_budget"]


def test_an_existing_run_is_refused_unless_overwritten_and_only_a_run_is(tmp_path):
    family = FAMILIES["memory"]
    recipe = apply_overrides(_recipe(family, tmp_path / "data"), ["train.epochs=1"])
    run = tmp_path / "run"
    zoo.train(recipe, run, data_root=tmp_path / "root", verbose=0)
    again = apply_overrides(recipe, ["train.seed=1"])
    with pytest.raises(ZooError, match="run directory exists; pass --resume to continue it, --overwrite"):
        zoo.train(again, run, data_root=tmp_path / "root", verbose=0)
    zoo.train(again, run, data_root=tmp_path / "root", verbose=0, overwrite=True)
    assert json.loads((run / "recipe.json").read_text())["train"]["seed"] == 1 and _epochs(run) == [0]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    with pytest.raises(ZooError, match="notes: not a run directory .*--overwrite replaces only runs"):
        zoo.train(again, tmp_path / "notes", data_root=tmp_path / "root", verbose=0, overwrite=True)
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep me"
