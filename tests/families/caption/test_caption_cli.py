"""End to end through the `zoo` CLI: train a tiny captioner, eval with beam search, export, caption; bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zoo.families.caption.sample import write_sample

TINY = ["--set", "model.units=4", "--set", "model.embedding=3", "--set", "model.frame_dim=4",
        "--set", "model.conv_filters=(2,)", "--set", "model.size=16", "--set", "model.frames=4",
        "--set", "train.epochs=2", "--set", "train.steps_per_epoch=2", "--set", "train.batch_size=4",
        "--set", "train.max_seconds=60", "--set", "data.meteor=False"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="module")
def run_dir(zoo, sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    zoo("train", "caption_attention_gru_shapes", "--data", f"frames:{sample}", "--out", out, *TINY)
    return out


def test_train_writes_a_self_contained_run_chosen_by_validation_cider(run_dir):
    for name in ("recipe.json", "model.keras", "vocab.json", "history.csv", "metrics.json", "data.json",
                 "curves.png"):
        assert (run_dir / name).is_file(), name
    header = (run_dir / "history.csv").read_text().splitlines()[0].split(",")
    assert "val_CIDEr" in header and "val_loss" in header
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"BLEU-4", "ROUGE-L", "CIDEr"} <= set(metrics["test"]) and metrics["test"]["clips"] == 1
    data = json.loads((run_dir / "data.json").read_text())
    assert data["uncaptioned"] == ["clip6"] and data["clips"]["train"] == 4


def test_eval_with_beam_search_writes_scores_and_a_grid(zoo, run_dir):
    result = json.loads(zoo("eval", run_dir, "--split", "all", "--beam", "2", "--json").stdout)
    assert result["beam"] == 2 and result["clips"] == 6 and len(result["examples"]) == 6
    assert (run_dir / "eval_frames_all_beam2.json").is_file()
    assert (run_dir / "captions_frames_all_beam2.png").stat().st_size > 5_000


def test_exported_litert_captions_like_keras(zoo, run_dir, sample):
    report = json.loads(zoo("export", run_dir, "--format", "tflite").stdout)
    assert report["same_greedy_caption"] == 1.0 and report["max_logit_diff"] < 1e-4
    tflite = run_dir / "exports" / "model_float.tflite"
    meta = json.loads(tflite.with_suffix(".json").read_text())
    assert set(meta["signatures"]) == {"encode", "decode_step"}
    assert meta["vocabulary"]["words"][:2] == ["<pad>", "<bos>"]
    inputs = [sample / "clips" / "clip0", sample / "clips" / "clip1.mp4", sample / "clips" / "clip6"]
    from_run = [json.loads(line) for line in zoo("caption", run_dir, *inputs, "--json").stdout.splitlines()]
    from_file = [json.loads(line) for line in zoo("caption", tflite, *inputs, "--json").stdout.splitlines()]
    assert [r["caption"] for r in from_run] == [r["caption"] for r in from_file]


def test_caption_bad_inputs_exit_nonzero_with_one_line(zoo, run_dir, tmp_path):
    np.save(tmp_path / "f.npy", np.zeros((4, 6), np.float32))
    (tmp_path / "bad.mp4").write_bytes(b"nothing")
    result = zoo("caption", run_dir, tmp_path / "f.npy", tmp_path / "bad.mp4", tmp_path / "gone", ok=False)
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert "Traceback" not in result.output
    assert zoo("eval", run_dir, "--beam", "0", ok=False).exit_code == 1


def test_beam_is_refused_for_families_that_do_not_decode():
    from zoo.core.errors import ZooError
    from zoo.families.registry import FAMILIES

    FAMILIES["caption"].require_beam(4)
    with pytest.raises(ZooError, match="kws models do not"):
        FAMILIES["kws"].require_beam(2)
