"""Subword vocabularies: WordPiece pieces learned with tensorflow-text, unseen words spelled by pieces."""

import pytest

from zoo.core.errors import ZooError
from zoo.text.subwords import SubwordVocabulary, load_vocabulary, vocabulary_from_json
from zoo.text.words import BOS, EOS, UNK, WordVocabulary

TEXTS = ["a charming film", "charming and moving", "the acting is moving", "a dull film, dully acted",
         "dull and slow", "the film is slow"] * 3


def test_learned_pieces_spell_words_never_seen():
    vocab = SubwordVocabulary.from_captions(TEXTS, min_count=2, max_words=100)
    assert vocab.words[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] and 50 < len(vocab) <= 104
    assert {"charming", "film", "dull"} <= set(vocab.words) and any(w.startswith("##") for w in vocab.words)
    ids = vocab.encode("Charmingly dull!")  # neither "charmingly" nor "!" was seen
    pieces = [vocab.words[i] for i in ids[1:-1]]
    assert ids[0] == BOS and ids[-1] == EOS and pieces[0] == "charming" and "dull" in pieces
    assert "".join(p.removeprefix("##") for p in pieces[:-2]) == "charmingly" and ids[-2] == UNK
    words = WordVocabulary.from_captions(TEXTS, min_count=2)
    assert words.encode("charmingly")[1] == UNK  # a word vocabulary cannot read it
    assert vocab.decode(vocab.encode("a charmingly slow film")) == "a charmingly slow film"
    assert vocab.encode_many(["a dull film", "slow"], max_length=3)[0][-1] == EOS
    assert [len(row) for row in vocab.encode_many(["a dull film", "slow"], max_length=3)] == [3, 3]
    assert vocab.encode_many([]) == []


def test_round_trip_keeps_the_kind_and_bad_files_are_one_line(tmp_path):
    vocab = SubwordVocabulary.from_captions(TEXTS, max_words=100)
    vocab.save(tmp_path / "vocab.json")
    again = load_vocabulary(tmp_path / "vocab.json")
    assert type(again) is SubwordVocabulary and again.words == vocab.words
    assert again.encode("charmingly") == vocab.encode("charmingly")
    assert type(vocabulary_from_json(WordVocabulary(["x"]).to_json())) is WordVocabulary
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ZooError, match="bad.json: not a word vocabulary file"):
        load_vocabulary(tmp_path / "bad.json")
