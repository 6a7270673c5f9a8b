"""Keyword data pipelines: which clips an epoch trains on."""

import dataclasses
import json

import numpy as np
import pytest

import zoo
from zoo.audio.clipstore import DiskClips, NoiseCuts
from zoo.core.errors import ZooError
from zoo.core.recipe import apply_overrides
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
        family.check_recipe(recipe)  # before training reads a clip



def test_a_keyword_the_data_set_does_not_have_is_one_line(digit_folder, tmp_path):
    family, recipe = _recipe(digit_folder)
    recipe = dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, words=("zero", "fiev")))
    with pytest.raises(ZooError, match=r"data.words: no training clips of 'fiev' in fsdd:.* \(its words: one, "
                                       r"two, zero\)"):
        family.datasets(recipe, tmp_path)


def _linked_digits(digit_folder, folder):
    """The digit folder, linked, with one corrupt wav (skipped and counted)."""
    folder.mkdir()
    for wav in digit_folder.glob("*.wav"):
        (folder / wav.name).symlink_to(wav)
    (folder / "1_bob_33.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    return folder


def test_a_set_larger_than_memory_streams_from_disk_the_same_clips_in_the_same_order(digit_folder, tmp_path):
    """`data.in_memory_mb=0` decodes into a clips file and reads it a batch at a time: the same clips, labels,
    skipped file and per-pass shuffles as in memory (augmentation off here: its parallel random draws are
    compared by the training test below)."""
    folder = _linked_digits(digit_folder, tmp_path / "digits")
    splits = {}
    for megabytes in (2048.0, 0.0):
        family, recipe = _recipe(folder, in_memory_mb=megabytes, silence_percent=20.0, unknown_percent=0.0,
                                 noise_prob=0.0, speed=(1.0, 1.0), shift_ms=0.0, gain_db=(0.0, 0.0))
        splits[megabytes] = family.datasets(recipe, tmp_path / "root")
    memory, disk = splits[2048.0], splits[0.0]
    assert isinstance(disk.test[0], DiskClips) and not isinstance(memory.test[0], DiskClips)
    assert disk.info["streamed_from_disk"] and not memory.info["streamed_from_disk"]
    assert disk.info["skipped_files"] == memory.info["skipped_files"] == 1
    assert disk.info["clips"] == memory.info["clips"]
    assert any(isinstance(part, NoiseCuts) for part in disk.test[0].parts)  # _silence_, cut when read
    np.testing.assert_array_equal(disk.test[0][:], memory.test[0])
    np.testing.assert_array_equal(disk.test[1], memory.test[1])
    for a, b in zip(memory.validation, disk.validation, strict=True):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    for a, b in zip(memory.train.repeat(2), disk.train.repeat(2), strict=True):  # two reshuffled passes
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())
    assert sorted(p.suffix for p in (tmp_path / "root" / "cache").iterdir()) == [".i16", ".npz", ".npz"]


def test_training_streamed_from_disk_is_training_in_memory_bit_for_bit(digit_folder, tmp_path):
    folder = _linked_digits(digit_folder, tmp_path / "digits")
    family, recipe = _recipe(folder, silence_percent=20.0)
    recipe = apply_overrides(family.tiny(recipe), ["train.epochs=2", "train.deterministic=True",
                                                   "train.schedule='cosine'", "data.silence_percent=20.0"])
    for megabytes in (2048.0, 0.0):
        zoo.train(apply_overrides(recipe, [f"data.in_memory_mb={megabytes}"]), tmp_path / f"run{megabytes}",
                  data_root=tmp_path / "root", verbose=0)
    assert json.loads((tmp_path / "run0.0" / "data.json").read_text())["streamed_from_disk"]
    with np.load(tmp_path / "run2048.0/checkpoints/epoch-0002.npz") as a, \
            np.load(tmp_path / "run0.0/checkpoints/epoch-0002.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
