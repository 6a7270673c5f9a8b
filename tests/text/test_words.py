"""Caption vocabularies: tensorflow-text tokenising, minimum counts, specials, round trips."""

import pytest

from zoo.core.errors import ZooError
from zoo.text.words import BOS, EOS, PAD, UNK, WordVocabulary, tokenize


def test_tokenize_folds_case_and_splits_punctuation():
    assert tokenize(["A Man's DOG, running!", "  two   spaces\tand\nlines "]) == [
        ["a", "man", "'", "s", "dog", ",", "running", "!"], ["two", "spaces", "and", "lines"]]
    assert tokenize(["Straße ÉTÉ"]) == [["strasse", "été"]]  # Unicode case folding


def test_min_count_specials_and_unknowns():
    vocab = WordVocabulary.from_captions(["a red circle.", "a red square.", "a blue circle."], min_count=2)
    assert vocab.words[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] and (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert vocab.words[4:] == [".", "a", "circle", "red"]  # by count, then by word; blue, square dropped
    ids = vocab.encode("A blue circle.")
    assert ids == [BOS, vocab.index["a"], UNK, vocab.index["circle"], vocab.index["."], EOS]
    assert vocab.decode(ids + [PAD, PAD]) == "a <unk> circle."
    possessive = WordVocabulary.from_captions(["a man's dog runs."])
    assert possessive.decode(possessive.encode("A man's dog runs.")) == "a man's dog runs."
    assert vocab.encode("a red red red circle", max_length=4) == [BOS, vocab.index["a"], vocab.index["red"], EOS]


def test_round_trip_and_bad_files(tmp_path):
    vocab = WordVocabulary.from_captions(["one two two"])
    vocab.save(tmp_path / "words.json")
    again = WordVocabulary.load(tmp_path / "words.json")
    assert again.words == vocab.words and len(again) == 6
    (tmp_path / "bad.json").write_text('{"words": ["x"], "specials": ["<s>"]}')
    with pytest.raises(ZooError, match="bad.json: not a word vocabulary file"):
        WordVocabulary.load(tmp_path / "bad.json")
