"""Crash-safe runs: a run resumed from what a crash leaves on disk ends exactly as an uninterrupted one.

What a process killed after epoch 2 wrote its history row and kept model, but before its checkpoint, leaves
is made here without a kill (the checkpoint of epoch 3 is deleted after training): the state on disk is the
same, and the test is deterministic. Killing real processes at random moments is `bench/kill_resume.py`.
"""

from __future__ import annotations

import csv
import json

import keras
import numpy as np
import pytest

import zoo
from zoo.core import checkpoints
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


def test_with_weight_averaging_a_resumed_run_trains_on_from_the_raw_weights(tmp_path):
    """The averaged weights are swapped in at each epoch's end for validation and the kept model; the checkpoint
    holds the weights training goes on from, so resuming after epoch 2 ends as the uninterrupted run."""
    family = FAMILIES["memory"]
    recipe = apply_overrides(_recipe(family, tmp_path / "data"), ["train.ema=0.9"])
    run = tmp_path / "run"
    zoo.train(recipe, run, data_root=tmp_path / "root", verbose=0)
    final = run / "checkpoints" / "epoch-0003.npz"
    expected = _state(final)
    final.unlink()
    zoo.train(recipe, run, data_root=tmp_path / "root", resume=True, verbose=0)
    assert _epochs(run) == [0, 1, 2]
    for a, b in zip(expected, _state(final), strict=True):  # the raw weights, their averages, the moments
        np.testing.assert_array_equal(a, b)


def test_early_stopping_counts_on_from_the_epochs_before_a_resume():
    """Patience 2, best at epoch 1, epoch 2 worse: one more epoch without a gain stops a resumed run, as it
    stops an uninterrupted one (Keras's own callback would start counting again)."""
    rows = [{"val_accuracy": "0.5"}, {"val_accuracy": "0.6"}, {"val_accuracy": "0.55"}]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    for stop in (checkpoints.EarlyStopping("val_accuracy", "max", 2, rows),
                 keras.callbacks.EarlyStopping("val_accuracy", mode="max", patience=2)):
        stop.set_model(model)
        model.stop_training = False
        stop.on_train_begin()
        stop.on_epoch_end(3, {"val_accuracy": 0.58})
        assert model.stop_training is isinstance(stop, checkpoints.EarlyStopping)
    again = checkpoints.EarlyStopping("val_accuracy", "max", 2, rows)
    again.set_model(model)
    model.stop_training = False
    again.on_train_begin()
    again.on_epoch_end(3, {"val_accuracy": 0.61})  # a gain resets the count
    assert not model.stop_training and again.best == 0.61 and again.wait == 0


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
