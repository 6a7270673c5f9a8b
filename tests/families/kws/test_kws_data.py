"""Keyword data pipelines: which clips an epoch trains on."""

import dataclasses

import pytest

from zoo.core.errors import ZooError
from zoo.families.registry import FAMILIES


def _recipe(digit_folder, **data):
    family = FAMILIES["kws"]
    recipe = family.with_data(next(r for r in family.recipes() if r.name == "kws_lstm_s_fsdd"),
                              f"fsdd:{digit_folder}")
    return family, dataclasses.replace(
        recipe, data=dataclasses.replace(recipe.data, words=("zero", "one", "two"), **data),
        train=dataclasses.replace(recipe.train, batch_size=6))  # divides 12 and 12 + 30: no batch dropped


def _epoch_clips(dataset):
    return sum(int(y.shape[0]) for _, y in dataset)


def test_training_on_validation_adds_its_clips_to_every_epoch(digit_folder, tmp_path):
    family, recipe = _recipe(digit_folder)
    held_out = family.datasets(recipe, tmp_path)
    counts = held_out.info["clips"]
    assert counts["validation"] > 0 and not held_out.info["validation_in_training"]
    assert held_out.train_size == _epoch_clips(held_out.train) == counts["train"]
    _, recipe = _recipe(digit_folder, train_on_validation=True)
    both = family.datasets(recipe, tmp_path)
    assert both.info["validation_in_training"] and both.info["clips"] == counts
    assert both.train_size == _epoch_clips(both.train) == counts["train"] + counts["validation"]


def test_training_on_validation_refuses_to_keep_the_best_epoch(digit_folder, tmp_path):
    family, recipe = _recipe(digit_folder, train_on_validation=True)
    recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, keep="best"))
    with pytest.raises(ZooError, match="set train.keep='last'"):
        family.datasets(recipe, tmp_path)
