"""Sentiment: its data sources (skipping bad lines), masking, and its commands on a tiny run."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zoo as zoo_api
from zoo.core.errors import ZooError
from zoo.core.load import load_run
from zoo.core.recipe import apply_overrides
from zoo.families.registry import FAMILIES, registry, resolve
from zoo.families.sentiment.data import drop_words, encode_split, label_names
from zoo.families.sentiment.model import build
from zoo.families.sentiment.sources import load, stable_split
from zoo.text.subwords import SubwordVocabulary
from zoo.text.words import UNK, WordVocabulary

FAMILY = FAMILIES["sentiment"]


def _recipe(spec, *overrides):
    return apply_overrides(resolve("sentiment_gru_s_sst2", data=spec), list(overrides))


def test_sst2_reads_its_three_files_and_skips_bad_lines_counted(tmp_path):
    FAMILY.sample_data(tmp_path)
    with open(tmp_path / "stsa.binary.train", "ab") as f:
        f.write(b"1 caf\xe9 latin-1 line\n0\n1 \xef\xbb\xbf fine after all\n")
    texts = load(_recipe(f"sst2:{tmp_path}"), tmp_path)
    assert [len(texts.splits[s]) for s in ("train", "validation", "test")] == [41, 10, 10]
    assert len(texts.skipped) == 2 and "not utf-8" in texts.skipped[0] and "stsa.binary.train:41" in texts.skipped[0]
    (tmp_path / "stsa.binary.dev").unlink()
    with pytest.raises(ZooError, match="not an SST-2 folder .missing stsa.binary.dev"):
        load(_recipe(f"sst2:{tmp_path}"), tmp_path)


def test_sst2_phrases_train_on_the_phrases_file_and_only_sst2_has_one(tmp_path):
    FAMILY.sample_data(tmp_path)
    texts = load(_recipe(f"sst2:{tmp_path}", "data.phrases=True"), tmp_path)
    assert [len(texts.splits[s]) for s in ("train", "validation", "test")] == [20, 10, 10]
    assert ("boring plot", "0") in texts.splits["train"]  # a phrase, not a sentence
    assert all(len(text.split()) > 2 for text, _ in texts.splits["validation"] + texts.splits["test"])
    (tmp_path / "stsa.binary.phrases.train").unlink()
    with pytest.raises(ZooError, match="missing stsa.binary.phrases.train"):
        load(_recipe(f"sst2:{tmp_path}", "data.phrases=True"), tmp_path)
    with pytest.raises(ZooError, match="data.phrases reads SST-2's stsa.binary.phrases.train; --data tsv has no"):
        FAMILY.check_recipe(_recipe(f"tsv:{tmp_path}", "data.phrases=True"))


def test_tsv_and_csv_split_by_a_stable_hash_and_name_missing_columns(tmp_path):
    rows = [(f"review number {i} was {'good' if i % 2 else 'bad'}", str(i % 2)) for i in range(400)]
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbf" + "\n".join(f"{t}\t{y}" for t, y in rows).encode())
    texts = load(_recipe(f"tsv:{tmp_path}"), tmp_path)
    assert sum(len(v) for v in texts.splits.values()) == 400 and not texts.skipped
    assert 20 < len(texts.splits["test"]) < 60
    assert rows[0][0] in [t for t, _ in texts.splits[stable_split(rows[0][0], .1, .1)]]
    (tmp_path / "c.csv").write_text("id,review,stars\n1,\"great, truly\",pos\n2,awful,neg\n3,,pos\n")
    recipe = _recipe(f"csv:{tmp_path / 'c.csv'}", "data.text_column='review'", "data.label_column='stars'")
    texts = load(recipe, tmp_path)
    assert sorted(t for rows in texts.splits.values() for t, _ in rows) == ["awful", "great, truly"]
    assert texts.skipped == [f"{tmp_path / 'c.csv'}:4: empty text"]
    with pytest.raises(ZooError, match="no column text .columns: id, review, stars; set data.text_column"):
        load(_recipe(f"csv:{tmp_path / 'c.csv'}", "data.label_column='stars'"), tmp_path)
    (tmp_path / "latin1.csv").write_bytes(b"\xe9t\xe9\ncaf\xe9,1\n")  # Latin-1 throughout: no line decodes
    with pytest.raises(ZooError, match="latin1.csv: no readable lines .an empty file, or none is utf-8."):
        load(_recipe(f"csv:{tmp_path / 'latin1.csv'}"), tmp_path)


def test_imdb_layout_reads_one_review_a_file(tmp_path):
    for part in ("train", "test"):
        for label, word in (("pos", "great"), ("neg", "awful")):
            folder = tmp_path / "aclImdb" / part / label
            folder.mkdir(parents=True)
            for i in range(30):
                (folder / f"{i}_7.txt").write_text(f"A {word} film.<br /><br />Number {i} of {part}.")
    (tmp_path / "aclImdb" / "test" / "pos" / "empty_1.txt").write_text("")
    texts = load(_recipe(f"imdb:{tmp_path}"), tmp_path)
    assert len(texts.splits["test"]) == 60 and len(texts.splits["train"]) + len(texts.splits["validation"]) == 60
    assert "<br />" not in texts.splits["test"][0][0] and texts.skipped[0].endswith("empty_1.txt: empty text")
    assert label_names([y for _, y in texts.splits["train"]]) == ["negative", "positive"]
    with pytest.raises(ZooError, match="not an aclImdb folder"):
        load(_recipe(f"imdb:{tmp_path / 'aclImdb' / 'train'}"), tmp_path)


def test_labels_map_across_sources_and_an_unknown_label_is_one_line():
    vocab = WordVocabulary.from_captions(["good film", "bad film"])
    x, y = encode_split([("good film", "1"), ("bad film", "neg")], vocab, ["negative", "positive"], 6, "x.tsv")
    assert y.tolist() == [1, 0] and x.shape == (2, 6)
    assert x[0].tolist() == [1, vocab.index["good"], vocab.index["film"], 2, 0, 0]
    with pytest.raises(ZooError, match="x.tsv: labels neutral are not the model's .negative, positive."):
        encode_split([("meh", "neutral")], vocab, ["negative", "positive"], 6, "x.tsv")


def test_word_dropout_hides_words_never_the_markers_or_padding():
    ids = np.array([[1, 9, 10, 11, 2, 0, 0]] * 200, np.int32)
    assert drop_words(ids, 1.0).numpy()[0].tolist() == [1, 3, 3, 3, 2, 0, 0]
    hidden = np.mean(drop_words(ids, 0.25).numpy()[:, 1:4] == 3)
    assert 0.18 < hidden < 0.32


@pytest.mark.parametrize("cell, bidirectional, pooling",
                         [("lstm", True, "last"), ("gru", False, "mean"), ("rnn", True, "mean")])
def test_padding_is_masked(cell, bidirectional, pooling):
    recipe = apply_overrides(registry().get("sentiment_rnn_s_sst2"), [
        f"model.cell={cell!r}", f"model.bidirectional={bidirectional}", f"model.pooling={pooling!r}", "model.units=3",
        "model.embedding=4"])
    model = build(recipe, vocab_size=20, labels=2)
    short = np.array([[1, 7, 8, 9, 2]], np.int32)
    padded = np.concatenate([short, np.zeros((1, 7), np.int32)], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(short, verbose=0), atol=1e-6)


@pytest.fixture(scope="module")
def tiny_run(zoo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sst2")
    spec = FAMILY.sample_data(folder)
    run = folder / "run"
    zoo("train", "sentiment_bilstm_s_sst2", "--data", spec, "--out", run, "--set", "model.units=3",
        "--set", "model.embedding=4", "--set", "train.epochs=1", "--set", "train.batch_size=8",
        "--set", "data.tokens='subwords'")  # the contract test trains on words; this run's commands read pieces
    assert json.loads((run / "vocab.json").read_text())["kind"] == "subwords"
    return run


def test_predict_text_and_files_and_refusals(zoo, tiny_run, tmp_path):
    out = zoo("predict", tiny_run, "--text", "a warm and funny film", "--text", "dull", "--json").output
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["text"] == "a warm and funny film" and set(first["scores"]) == {"negative", "positive"}
    assert abs(sum(first["scores"].values()) - 1) < 1e-3 and second["label"] in ("negative", "positive")
    (tmp_path / "reviews.txt").write_text("great fun\n\nboring\n", encoding="utf-8")
    lines = zoo("predict", tiny_run, tmp_path / "reviews.txt").output.splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{tmp_path / 'reviews.txt'}:1", f"{tmp_path / 'reviews.txt'}:3"]
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\ngreat fun\n")  # a bad line is an error; the good one is read
    for args, cause in (((tmp_path / "latin1.txt",), f"{tmp_path / 'latin1.txt'}:1: not utf-8"),
                        ((), "give one or more FILES"),
                        ((tmp_path / "reviews.txt", "--text", "x"), "give FILES or --text, not both")):
        result = zoo("predict", tiny_run, *args, ok=False)
        assert result.exit_code == 1 and result.stderr.strip().startswith(f"error: {cause}"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_eval_on_another_domain_and_litert_agrees(zoo, tiny_run, tmp_path):
    (tmp_path / "uci.txt").write_text("A great film.\t1\nAwful, dull.\t0\nLovely fun\t1\n", encoding="utf-8")
    result = json.loads(zoo("eval", tiny_run, "--data", f"tsv:{tmp_path / 'uci.txt'}", "--split", "all",
                            "--json").output)
    assert result["texts"] == 3 and np.sum(result["confusion"]) == 3
    report = json.loads(zoo("export", tiny_run, "--format", "tflite", "--quantize", "dynamic",
                            "--out", tmp_path / "m.tflite").output)
    assert report["agreement"] >= 0.9 and report["texts"] == 10
    lite = zoo_api.load(tmp_path / "m.tflite")  # the sidecar keeps the pieces: an unseen word is spelled by them
    assert isinstance(lite.vocab, SubwordVocabulary) and UNK not in lite.vocab.encode("wonderfully")
    from_run = json.loads(zoo("predict", tiny_run, "--text", "simply wonderfully", "--json").output)
    from_lite = json.loads(zoo("predict", tmp_path / "m.tflite", "--text", "simply wonderfully", "--json").output)
    assert from_run["label"] == from_lite["label"] and abs(from_run["score"] - from_lite["score"]) < 0.05


def test_gates_show_each_words_effect(tiny_run, tmp_path):
    result = zoo_api.gates(tiny_run, "a warm , funny film", out=tmp_path / "g.png", npz=tmp_path / "g.npz")
    recipe = FAMILY.recipe_from_dict(json.loads((tiny_run / "recipe.json").read_text()))
    meta = FAMILY.load_meta(tiny_run)
    _, _, model = load_run(tiny_run, FAMILIES)
    annotated = FAMILY.annotate_gates(model, recipe, meta, FAMILY.gate_input(recipe, meta, "a warm , funny film"))
    name, effect = annotated.track
    assert result["steps"] == len(effect) == 7 and effect[0] == effect[-1] == 0.0 and name.startswith("P(")
    assert (tmp_path / "g.png").stat().st_size > 10_000
    np.testing.assert_allclose(np.load(tmp_path / "g.npz")["track"], effect, atol=1e-6)
