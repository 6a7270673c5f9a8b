"""Text generation: stepping equals the full-sequence model; LiteRT and Keras generate the same text; CLI end to end."""

import json

import numpy as np
import pytest

from zoo.core.recipe import apply_overrides
from zoo.families.chargen import generate
from zoo.families.chargen import model as chargen
from zoo.families.registry import registry
from zoo.text.corpus import Vocabulary

CORPUS = "the quick brown fox jumps over the lazy dog.\nso it goes, again and again.\n" * 60


def _recipe(cell, layers=2):
    return apply_overrides(registry().get("chargen_gru_s_pydocs"),
                           [f"model.cell='{cell}'", "model.units=4", f"model.layers={layers}",
                            "model.embedding=3"])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_stepping_carries_state_like_the_full_sequence(cell):
    recipe = _recipe(cell)
    vocab = Vocabulary.from_text(CORPUS)
    model = chargen.build(recipe, len(vocab))
    ids = vocab.encode(CORPUS[:20])
    full = np.asarray(model.predict(ids[None], verbose=0))[0]
    step = chargen.step_function(model)
    state = np.zeros((1, chargen.state_size(recipe)), np.float32)
    stepped = []
    for i in ids:
        logits, state = step(np.array([i], np.int32), state)
        stepped.append(np.asarray(logits)[0])
    np.testing.assert_allclose(np.stack(stepped), full, atol=1e-5)
    # A window read in two halves with the state carried equals reading it whole.
    run = chargen.sequence_function(model)
    first, state = run(ids[None, :8], np.zeros((1, chargen.state_size(recipe)), np.float32))
    second, _ = run(ids[None, 8:], state)
    np.testing.assert_allclose(np.concatenate([first, second], 1)[0], full, atol=1e-5)


def test_sampling_is_seeded_greedy_at_zero_and_respects_top_k():
    rng = np.random.default_rng
    logits = np.array([0.0, 2.0, 1.0, -1.0])
    assert generate.sample_id(logits, rng(0), 0.0, 0) == 1
    draws = [generate.sample_id(logits, rng(s), 1.0, 2) for s in range(200)]
    assert set(draws) == {1, 2}
    assert [generate.sample_id(logits, rng(7), 1.0, 0) for _ in range(3)] == \
        [generate.sample_id(logits, rng(7), 1.0, 0) for _ in range(3)]


@pytest.fixture(scope="module")
def chargen_run(zoo, tmp_path_factory):
    root = tmp_path_factory.mktemp("chargen")
    corpus = root / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = root / "run"
    zoo("train", "chargen_lstm_m_shakespeare", "--data", f"text:{corpus}", "--out", out,
        "--set", "model.units=8", "--set", "model.embedding=4", "--set", "data.seq_len=16",
        "--set", "train.max_seconds=8", "--set", "train.steps_per_epoch=5", "--set", "train.batch_size=8")
    return out, corpus


def test_train_reports_bits_per_char_and_keeps_vocabulary(zoo, chargen_run):
    out, _ = chargen_run
    for name in ("recipe.json", "model.keras", "vocab.json", "history.csv", "metrics.json", "sample.txt",
                 "curves.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stopped_by_budget"] and metrics["vocabulary"] == len(set(CORPUS)) + 1
    assert metrics["validation_bits_per_char"] == pytest.approx(metrics["validation_loss"] / np.log(2), abs=1e-3)
    assert metrics["validation_stateful"]["characters"] > 0
    assert "seconds" in (out / "history.csv").read_text().splitlines()[0]
    result = json.loads(zoo("eval", out, "--split", "all", "--json").stdout)
    assert result["characters"] > 0.9 * len(CORPUS) and result["split"] == "all"
    assert result["bits_per_char"] == pytest.approx(result["loss_nats"] / np.log(2), abs=1e-3)


@pytest.mark.parametrize("quantize", ["none", "dynamic"])
def test_litert_generator_matches_keras(zoo, chargen_run, quantize):
    out, _ = chargen_run
    report = json.loads(zoo("export", out, "--format", "tflite", "--quantize", quantize).stdout)
    assert report["characters"] > 0 and report["generate_chars_per_s"] > 0
    if quantize == "none":
        assert report["max_logit_diff"] < 1e-4 and report["same_text_as_keras"]
    model = out / "exports" / f"model_{'float' if quantize == 'none' else 'dynamic'}.tflite"
    meta = json.loads(model.with_suffix(".json").read_text())
    assert meta["family"] == "chargen" and meta["vocabulary"]["unknown_id"] == 0
    args = ["--prime", "the ", "--length", "40", "--seed", "5", "--temperature", "1.0"]
    from_run = zoo("generate", out, *args).stdout
    from_file = zoo("generate", model, *args).stdout
    assert from_run.startswith("the ") and len(from_run) == len("the ") + 40 + 1
    if quantize == "none":
        assert from_file == from_run


def test_generate_handles_unknown_prime_and_bad_models(zoo, chargen_run, tmp_path):
    out, _ = chargen_run
    result = zoo("generate", out, "--prime", "zebra ∑", "--length", "5")
    assert "outside the vocabulary" in result.stderr and "∑" in result.stderr
    missing = zoo("generate", tmp_path / "nope", ok=False)
    assert missing.exit_code == 1 and "no such model" in missing.output and "Traceback" not in missing.output
    bad = zoo("export", out, "--quantize", "int8", ok=False)
    assert bad.exit_code == 1 and "int8" in bad.output


def test_non_utf8_corpus_is_one_line_error(zoo, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok text \xff more")
    result = zoo("train", "chargen_gru_s_pydocs", "--data", f"text:{bad}", "--out", tmp_path / "run", ok=False)
    assert result.exit_code == 1 and "bad.txt: not valid utf-8 at byte 8" in result.output
    assert not (tmp_path / "run").exists()
