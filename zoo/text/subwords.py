"""Subword (WordPiece) vocabularies, learned and applied with tensorflow-text.

Texts are split into words exactly as `zoo.text.words.tokenize` does (case
folded, punctuation apart); each word is then read as its longest known
pieces, left to right (`tensorflow_text.FastWordpieceTokenizer`), with `##`
marking a piece that continues a word. A word the training texts never held
still gets ids from its pieces ("charmingly" -> `charming ##ly`), so fewer
words are `<unk>`. The pieces are learned from the training texts' word counts
by tensorflow-text's WordPiece learner. Ids 0-3 are the same four specials as
a word vocabulary's, so models, padding and `<unk>` handling are unchanged.

Example:
    >>> vocab = SubwordVocabulary(["a", "red", "circle", "##s", "##ly", "bright"])
    >>> vocab.encode("Bright circles!")
    [1, 9, 6, 7, 3, 2]
    >>> [vocab.words[i] for i in vocab.encode("brightly")[1:-1]]
    ['bright', '##ly']
    >>> vocab.decode(vocab.encode("a bright red circles"))
    'a bright red circles'
    >>> type(vocabulary_from_json(vocab.to_json())).__name__
    'SubwordVocabulary'
"""

from __future__ import annotations

import collections
from pathlib import Path

from zoo.text.words import BOS, EOS, PAD, SPECIALS, UNK, WordVocabulary, framed, tokenize

JOINER = "##"
KIND = "subwords"


class SubwordVocabulary(WordVocabulary):
    """Ids for WordPiece pieces: 0 `<pad>`, 1 `<bos>`, 2 `<eos>`, 3 `<unk>`, then the pieces.

    Args:
        words: the pieces after the four specials, in id order (`##x` continues a word).
    """

    def __init__(self, words):
        super().__init__(words)
        self._tokenizer = None

    @classmethod
    def from_captions(cls, captions, min_count: int = 1, max_words: int = 0) -> SubwordVocabulary:
        """About `max_words` pieces (8,000 if 0) learned from the words of `captions` (any texts); a piece must
        be seen at least `min_count` times (single characters are always kept, so any word can be spelled)."""
        from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

        counts = collections.Counter(t for tokens in tokenize(captions) for t in tokens)
        pieces = learner.learn(sorted(counts.items()), vocab_size=(max_words or 8000) + len(SPECIALS),
                               reserved_tokens=list(SPECIALS), lower_thresh=max(1, min_count), joiner=JOINER)
        return cls(p for p in pieces if p not in SPECIALS)

    def _pieces(self):
        if self._tokenizer is None:
            import tensorflow_text as tf_text

            self._tokenizer = tf_text.FastWordpieceTokenizer(
                self.words, suffix_indicator=JOINER, unknown_token=SPECIALS[UNK], no_pretokenization=True)
        return self._tokenizer

    def encode_many(self, captions, max_length: int | None = None) -> list[list[int]]:
        """`<bos>` piece ids `<eos>` per text; a word with no spelling in pieces is one `<unk>`."""
        rows = tokenize(captions) if len(captions) else []
        words = [w for row in rows for w in row]
        pieces = self._pieces().tokenize(words).to_list() if words else []
        out, at = [], 0
        for row in rows:
            out.append(framed([int(i) for word in pieces[at:at + len(row)] for i in word], max_length))
            at += len(row)
        return out

    def decode(self, ids) -> str:
        """Text of ids up to the first `<eos>`: pieces joined into words, specials left out."""
        words = []
        for i in map(int, ids):
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            piece = self.words[i] if 0 <= i < len(self.words) else SPECIALS[UNK]
            if piece.startswith(JOINER) and words:
                words[-1] += piece[len(JOINER):]
            else:
                words.append(piece)
        return " ".join(words)

    def to_json(self) -> dict:
        return {**super().to_json(), "kind": KIND}


def vocabulary_from_json(d: dict) -> WordVocabulary:
    """The word or subword vocabulary saved as `d` (its `kind`)."""
    return (SubwordVocabulary if d.get("kind") == KIND else WordVocabulary).from_json(d)


def load_vocabulary(path: Path) -> WordVocabulary:
    """The word or subword vocabulary saved at `path`; a bad file is a one-line error naming it."""
    return WordVocabulary.load(path, vocabulary_from_json)
