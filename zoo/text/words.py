"""Word vocabularies for captions: tensorflow-text tokenisation, a minimum count, four special tokens.

Tokenising folds case (`tensorflow_text.case_fold_utf8`, Unicode NFKC case
folding) and splits on white space and around punctuation
(`tensorflow_text.regex_split`, punctuation kept as its own token), so
"A red circle, moving!" reads as `a red circle , moving !`. Before that, a typographic
apostrophe becomes `'` and a negation is split off its verb as the Penn Treebank
writes it, which is how SST-2's sentences come ("is n't", "ca n't"), so raw text
reads alike: "Wasn't" gives `was n ' t`, not an unknown `wasn` and a stray `t`. The vocabulary
keeps the words seen at least `min_count` times, most frequent first; ids 0-3
are `<pad>`, `<bos>`, `<eos>` and `<unk>`.

Example:
    >>> tokenize(["A red Circle, moving!"])
    [['a', 'red', 'circle', ',', 'moving', '!']]
    >>> tokenize(["It wasn’t bad", "it was n't bad"])
    [['it', 'was', 'n', "'", 't', 'bad'], ['it', 'was', 'n', "'", 't', 'bad']]
    >>> vocab = WordVocabulary.from_captions(["a red circle", "a blue circle", "a red square"], min_count=2)
    >>> vocab.words, vocab.encode("a red dog")
    (['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'circle', 'red'], [1, 4, 6, 3, 2])
    >>> vocab.decode([1, 4, 6, 5, 2, 0])
    'a red circle'
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

from zoo.core import runs
from zoo.core.errors import ZooError

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = range(4)
# RE2's \w is ASCII only: letters and digits of any script are \p{L} and \p{N}.
_SPLIT = r"\s+|[^\p{L}\p{N}_\s]"   # split on white space and on each punctuation mark ...
_KEEP = r"[^\p{L}\p{N}_\s]"        # ... keeping the punctuation marks as tokens
_NEGATION = r"(\p{L})n't"            # wasn't -> was n't, can't -> ca n't (the Penn Treebank's split)


def tokenize(texts) -> list[list[str]]:
    """Lower-cased word and punctuation tokens of each text (tensorflow-text)."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    folded = tf_text.case_fold_utf8(tf.constant(list(texts), tf.string))
    folded = tf.strings.regex_replace(tf.strings.regex_replace(folded, "\u2019", "'"), _NEGATION, r"\1 n't")
    tokens = tf_text.regex_split(folded, _SPLIT, _KEEP)
    return [[t.decode("utf-8") for t in row] for row in tokens.to_list()]


def framed(ids: list[int], max_length: int | None = None) -> list[int]:
    """`<bos>` ids `<eos>`, cut to `max_length` (keeping the `<eos>`)."""
    ids = [BOS] + list(ids) + [EOS]
    if max_length is not None and len(ids) > max_length:
        ids = ids[:max_length - 1] + [EOS]
    return ids


class WordVocabulary:
    """Ids for words: 0 `<pad>`, 1 `<bos>`, 2 `<eos>`, 3 `<unk>`, then the words.

    Args:
        words: the words after the four specials, in id order.
    """

    def __init__(self, words):
        words = list(words)
        if words[:4] == list(SPECIALS):
            words = words[4:]
        self.words = list(SPECIALS) + words
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def from_captions(cls, captions, min_count: int = 1, max_words: int = 0) -> WordVocabulary:
        """The words of `captions` (any texts) seen at least `min_count` times, most frequent first (ties by
        word), at most `max_words` of them (0: all)."""
        counts = collections.Counter(t for tokens in tokenize(captions) for t in tokens)
        kept = sorted((w for w, n in counts.items() if n >= min_count and w not in SPECIALS),
                      key=lambda w: (-counts[w], w))
        return cls(kept[:max_words] if max_words else kept)

    def encode(self, caption: str, max_length: int | None = None) -> list[int]:
        """`<bos>` ids of the caption's tokens `<eos>`; unknown words are `<unk>`; cut to `max_length`."""
        return self.encode_many([caption], max_length)[0]

    def encode_many(self, captions, max_length: int | None = None) -> list[list[int]]:
        """`encode` of many captions, tokenized in one call."""
        rows = tokenize(captions) if len(captions) else []
        return [framed([self.index.get(t, UNK) for t in tokens], max_length) for tokens in rows]

    def decode(self, ids) -> str:
        """Text of ids up to the first `<eos>`, without specials; punctuation attached to the word before it."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            word = self.words[i] if 0 <= i < len(self.words) else SPECIALS[UNK]
            if out and (len(word) == 1 and not word.isalnum() or out[-1].endswith("'")):
                out[-1] += word  # "circle ." -> "circle.", "woman ' s" -> "woman's"
            else:
                out.append(word)
        return " ".join(out)

    def to_json(self) -> dict:
        return {"words": self.words, "specials": list(SPECIALS), "size": len(self)}

    @classmethod
    def from_json(cls, d: dict) -> WordVocabulary:
        if list(d.get("specials", SPECIALS)) != list(SPECIALS):
            raise ValueError(f"special tokens {d.get('specials')} are not {list(SPECIALS)}")
        return cls(d["words"])

    def save(self, path: Path) -> None:
        runs.write_json(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path, parse=None) -> WordVocabulary:
        """The vocabulary saved at `path`, read by `parse` (default `cls.from_json`); a bad file is a one-line
        error naming it."""
        try:
            return (parse or cls.from_json)(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise ZooError(f"{path}: not a word vocabulary file ({e})") from None
