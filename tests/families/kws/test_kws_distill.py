"""Ensemble distillation (`train.teachers`): a student trains on targets mixed with teacher runs' answers."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from zoo.core.distill import load_teachers, with_teachers
from zoo.core.errors import ZooError
from zoo.families.registry import FAMILIES

TINY = ["--set", "model.units=4", "--set", "model.layers=1", "--set", "train.epochs=1",
        "--set", "train.batch_size=16", "--set", "data.words=('zero', 'one', 'two')"]


@pytest.fixture(scope="module")
def teacher(zoo, digit_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher") / "run"
    data_root = tmp_path_factory.mktemp("data")
    zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root", data_root, *TINY)
    return out, data_root


def _student_recipe(teacher_dir, digit_folder, weight=0.8):
    family = FAMILIES["kws"]
    recipe = family.with_data(next(r for r in family.recipes() if r.name == "kws_ugru_s_fsdd"),
                              f"fsdd:{digit_folder}")
    return family, dataclasses.replace(
        recipe, model=dataclasses.replace(recipe.model, units=4, layers=1),
        data=dataclasses.replace(recipe.data, words=("zero", "one", "two")),
        train=dataclasses.replace(recipe.train, batch_size=16, teachers=(str(teacher_dir),), teacher_weight=weight))


def test_the_targets_mix_in_the_teachers_probabilities(teacher, digit_folder):
    teacher_dir, data_root = teacher
    family, recipe = _student_recipe(teacher_dir, digit_folder, weight=0.75)
    splits = family.datasets(recipe, data_root)
    models = load_teachers(recipe, family, splits.meta)
    x, y = next(iter(with_teachers(splits.train, models, 0.75)))
    probs = tf.nn.softmax(models[0](x, training=False)).numpy()
    rest = y.numpy() - 0.75 * probs  # what is left must be a quarter of a one-hot label
    assert np.allclose(rest.sum(axis=1), 0.25, atol=1e-5)
    assert np.allclose(np.sort(rest, axis=1)[:, :-1], 0.0, atol=1e-5)
    assert not np.allclose(y.numpy(), np.round(y.numpy()))  # soft: not the labels alone


def test_a_student_run_is_self_contained_and_names_its_teachers(zoo, teacher, digit_folder, tmp_path):
    teacher_dir, data_root = teacher
    copy = tmp_path / "teacher"
    shutil.copytree(teacher_dir, copy)
    out = tmp_path / "student"
    zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root", data_root,
        *TINY, "--set", f"train.teachers=('{copy}',)")
    assert json.loads((out / "recipe.json").read_text())["train"]["teachers"] == [str(copy)]
    shutil.rmtree(copy)
    zoo("eval", out, "--data-root", data_root)  # the student needs nothing of its teacher afterwards
    assert list(out.glob("eval_*.json"))


def test_bad_teachers_are_one_line_errors(zoo, teacher, digit_folder, tmp_path):
    teacher_dir, data_root = teacher
    other = tmp_path / "other_labels"
    shutil.copytree(teacher_dir, other)
    (other / "labels.json").write_text(json.dumps(["zero", "one"]))
    for teachers, message in (((str(tmp_path / "nope"),), "not a run directory"),
                              ((str(other),), "the teacher's labels differ from the student's")):
        out = tmp_path / "student"
        result = zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root",
                     data_root, *TINY, "--set", f"train.teachers={teachers!r}", ok=False)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
        assert not out.exists()  # nothing half-written


def test_only_families_with_probability_targets_distill(teacher):
    chargen = FAMILIES["chargen"]
    recipe = chargen.recipes()[0]
    recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, teachers=(str(teacher[0]),)))
    with pytest.raises(ZooError, match="cannot be distilled"):
        load_teachers(recipe, chargen, None)
    family, kws_recipe = _student_recipe(teacher[0], "unused", weight=0.0)
    with pytest.raises(ZooError, match="teacher_weight=0.0"):
        load_teachers(kws_recipe, family, ["zero", "one", "two"])
