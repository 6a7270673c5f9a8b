"""The adding problem: its data, its score, and its commands on a tiny run (`zoo predict`, `zoo eval`, LiteRT)."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from zoo.core.errors import ZooError
from zoo.core.recipe import apply_overrides
from zoo.families.memory.data import adding_problem, datasets, fixed_split
from zoo.families.memory.evaluate import BASELINE_MSE, score
from zoo.families.registry import FAMILIES, registry, resolve

TINY = ["model.units=3", "data.length=12", "data.validation_size=32", "data.test_size=32", "train.epochs=1",
        "train.steps_per_epoch=3", "train.batch_size=8"]


@pytest.mark.parametrize("length", [2, 3, 11, 100])
def test_adding_problem_marks_one_step_in_each_half_and_sums_them(length):
    x, y = (a.numpy() for a in adding_problem(300, length, seed=(3, 4)))
    values, markers = x[..., 0], x[..., 1]
    assert x.shape == (300, length, 2) and y.shape == (300, 1)
    assert np.all((values >= 0) & (values < 1)) and set(np.unique(markers)) <= {0.0, 1.0}
    half = length // 2
    assert np.all(markers[:, :half].sum(1) == 1) and np.all(markers[:, half:].sum(1) == 1)
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(1), rtol=1e-6)
    again, _ = adding_problem(300, length, seed=(3, 4))
    other, _ = adding_problem(300, length, seed=(3, 5))
    assert np.array_equal(again.numpy(), x) and not np.array_equal(other.numpy(), x)


def test_training_draws_fresh_batches_and_held_out_sets_do_not_depend_on_the_seed():
    recipe = apply_overrides(registry().get("memory_gru_s_adding"), TINY)
    splits = datasets(recipe, data_root=None)
    first, second = [x.numpy() for x, _ in splits.train.take(2)]
    assert first.shape == (8, 12, 2) and not np.array_equal(first, second)
    reseeded = datasets(apply_overrides(recipe, ["train.seed=5"]), data_root=None)
    assert not np.array_equal(next(iter(reseeded.train))[0].numpy(), first)
    validation = np.concatenate([x.numpy() for x, _ in splits.validation])
    assert np.array_equal(validation, np.concatenate([x.numpy() for x, _ in reseeded.validation]))
    assert validation.shape == (32, 12, 2) and not np.array_equal(validation, splits.test[0])


def test_score_counts_answers_within_the_tolerance_and_the_mean_answer_scores_the_baseline():
    result = score(np.array([1.0, 0.5, 1.5]), np.array([1.039, 0.45, 1.5]), tolerance=0.04)
    assert result["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["mse"] == pytest.approx((0.039 ** 2 + 0.05 ** 2) / 3, abs=1e-6)
    recipe = registry().get("memory_lstm_s_adding")
    _, y = fixed_split(recipe, "validation")
    assert score(y, np.ones_like(y), 0.04)["mse"] == pytest.approx(BASELINE_MSE, abs=0.015)


def test_bad_settings_are_one_line_errors():
    recipe = registry().get("memory_rnn_s_adding")
    with pytest.raises(ZooError, match="--set data.length=1: must be >= 2"):
        apply_overrides(recipe, ["data.length=1"])
    with pytest.raises(ZooError, match="data.length=1: the adding problem needs at least 2 steps"):
        datasets(dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, length=1)), data_root=None)
    with pytest.raises(ZooError, match="set train.steps_per_epoch"):
        datasets(apply_overrides(registry().get("memory_rnn_s_adding"), ["train.steps_per_epoch=0"]), None)
    with pytest.raises(ZooError, match="generated; it takes no path"):
        resolve("memory_rnn_s_adding", data="adding:/tmp/x")


@pytest.fixture(scope="module")
def tiny_run(zoo, tmp_path_factory):
    run = tmp_path_factory.mktemp("memory") / "run"
    zoo("train", "memory_lstm_s_adding", "--out", run, *[a for s in TINY for a in ("--set", s)])
    return run


def test_eval_and_predict_read_the_run(zoo, tiny_run, tmp_path):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    result = json.loads(zoo("eval", tiny_run, "--split", "test", "--json").output)
    assert result["accuracy"] == metrics["test_accuracy"] and result["sequences"] == 32
    x, y = fixed_split(FAMILIES["memory"].recipe_from_dict(json.loads((tiny_run / "recipe.json").read_text())), "test")
    np.save(tmp_path / "three.npy", x[:3])
    np.savetxt(tmp_path / "one.csv", x[0], delimiter=",")
    lines = zoo("predict", tiny_run, tmp_path / "three.npy", tmp_path / "one.csv").output.splitlines()
    assert len(lines) == 4 and lines[0].startswith(f"{tmp_path / 'three.npy'}[0]: sum ")
    assert lines[0].split("sum ")[1] == lines[3].split("sum ")[1]  # the same sequence, from .npy and .csv
    assert f"add to {y[0, 0]:.4f}" in lines[0]


def test_litert_export_reads_its_length_and_bad_files_are_one_line_errors(zoo, tiny_run, tmp_path):
    report = json.loads(zoo("export", tiny_run, "--format", "tflite", "--out", tmp_path / "m.tflite").output)
    assert report["max_logit_diff"] < 1e-4 and report["accuracy"] == report["keras_accuracy"]
    x, _ = adding_problem(2, 20, seed=(1, 1))
    np.save(tmp_path / "long.npy", x.numpy())
    np.save(tmp_path / "wide.npy", np.zeros((12, 3), np.float32))
    np.save(tmp_path / "nan.npy", np.full((12, 2), np.nan, np.float32))
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    (tmp_path / "words.csv").write_text("a,b\nc,d\n")
    (tmp_path / "seq.txt").write_text("0.5,1\n")
    cases = {
        (tmp_path / "m.tflite", "long.npy"): "20 steps; .* reads sequences of 12",
        (tiny_run, "wide.npy"): r"sequences have shape \[T, 2\] or \[N, T, 2\]",
        (tiny_run, "nan.npy"): "NaN or infinite",
        (tiny_run, "junk.npy"): "not a .npy file \\(no NumPy header\\)",
        (tiny_run, "words.csv"): "not a readable sequence file",
        (tiny_run, "seq.txt"): "a sequence file is .npy or .csv",
        (tiny_run, "missing.npy"): "no such sequence file",
    }
    for (model, name), cause in cases.items():
        result = zoo("predict", model, tmp_path / name, ok=False)
        (line,) = result.stderr.strip().splitlines()
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert line.startswith(f"error: {tmp_path / name}: ") and re.search(cause, line), line
    assert json.loads(zoo("predict", tiny_run, tmp_path / "long.npy", "--json").output.splitlines()[1])["index"] == 1
