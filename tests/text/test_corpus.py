"""Text corpora, vocabularies and windows: the chargen data pipeline."""

import numpy as np
import pytest

from zoo.core.errors import ZooError
from zoo.text import corpus as text


def test_non_utf8_file_names_the_file_and_byte_offset(tmp_path):
    bad = tmp_path / "latin.txt"
    bad.write_bytes(b"caf" + "é au lait".encode("latin-1"))
    with pytest.raises(ZooError, match=r"latin\.txt: not valid utf-8 at byte 3 .*data\.encoding"):
        text.read_corpus(bad)
    assert text.read_corpus(bad, "latin-1")[0] == "café au lait"
    with pytest.raises(ZooError, match="unknown encoding"):
        text.read_corpus(bad, "no-such-codec")


def test_folder_skips_and_counts_bad_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "c.bin").write_bytes(b"\xff\xfe\xfa")
    (tmp_path / ".hidden").write_text("ignored", encoding="utf-8")
    corpus, skipped = text.read_corpus(tmp_path)
    assert corpus == "first\nsecond" and len(skipped) == 1 and "c.bin" in skipped[0]
    with pytest.raises(ZooError, match="no such file or folder"):
        text.read_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ZooError, match="no readable"):
        text.read_corpus(tmp_path / "empty")


def test_pydocs_is_built_in_and_large():
    corpus = text.pydocs_text()
    assert len(corpus) > 300_000 and "for" in corpus and corpus == text.pydocs_text()


def test_vocabulary_round_trip_and_unknowns(tmp_path):
    vocab = text.Vocabulary.from_text("hello wörld\n")
    assert vocab.chars == sorted(set("hello wörld\n")) and len(vocab) == len(vocab.chars) + 1
    ids = vocab.encode("hello ∑")
    assert ids.dtype == np.int32 and ids[-1] == 0 and vocab.decode(ids[:-1]) == "hello "
    assert vocab.unknown("hello ∑x") == ["x", "∑"]
    vocab.save(tmp_path / "vocab.json")
    assert text.Vocabulary.load(tmp_path / "vocab.json") == vocab
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ZooError, match="not a vocabulary"):
        text.Vocabulary.load(tmp_path / "bad.json")


def test_split_is_in_order():
    train, val = text.split("abcdefghij", 0.2)
    assert (train, val) == ("abcdefgh", "ij")


def test_windows_are_next_character_pairs():
    ids = np.arange(1, 101, dtype=np.int32)
    batches = list(text.random_windows(ids, 8, 4, count=3, seed=0))
    assert len(batches) == 3
    for x, y in batches:
        assert x.shape == (4, 8) and np.all(y.numpy() == x.numpy() + 1)
    x, y = text.contiguous_windows(ids, 8)
    assert x.shape == (12, 8) and np.all(y == x + 1) and x[0, 0] == 1 and x[1, 0] == 9
    sx, sy = text.streams(ids, 4)
    assert sx.shape == (4, 24) and np.all(sy == sx + 1)
    with pytest.raises(ZooError, match="needs at least"):
        text.random_windows(ids[:5], 8, 4, 1, 0)
