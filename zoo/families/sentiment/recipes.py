"""Sentiment recipes: the model and data sections, and the named recipes.

Example:
    >>> [r.name for r in recipes()]
    ['sentiment_bilstm_s_sst2', 'sentiment_gru_s_sst2', 'sentiment_lstm_s_sst2', 'sentiment_rnn_s_sst2']
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from zoo.core.recipe import Fraction, NonNegative, NonNegativeInt, PositiveInt, Range, Recipe, TrainConfig
from zoo.nn.cells import Cell

NAME = "sentiment"
SOURCES = ("sst2", "tsv", "imdb", "csv")


@dataclass(frozen=True)
class SentimentModel:
    """Attributes:
        cell: `rnn`, `lstm` or `gru`.
        units: state size of each recurrent layer (each direction).
        layers: stacked recurrent layers.
        bidirectional: read the text both ways.
        pooling: `last` (the last recurrent layer's final state, both directions') or `mean` (its outputs
            averaged over the words, padding excluded).
        embedding: word embedding width, learned from scratch.
        dropout: on the embeddings and on the summary (training only).
        adversarial: each training step is taken with the embedding table moved this far along its loss
            gradient, then applied to the unmoved table (0: off; `zoo.nn.adversarial`).
    """

    cell: Cell = "lstm"
    units: PositiveInt = 64
    layers: PositiveInt = 1
    bidirectional: bool = False
    pooling: typing.Literal["last", "mean"] = "last"
    embedding: PositiveInt = 64
    dropout: Fraction = 0.5
    adversarial: NonNegative = 0.0


@dataclass(frozen=True)
class SentimentData:
    """Attributes:
        source: `sst2` (a folder with `stsa.binary.{train,dev,test}`), `tsv` (files of `text<TAB>label`),
            `imdb` (the `aclImdb` layout; downloaded without a path) or `csv` (a file with a header).
        path: the folder or file.
        text_column, label_column: the columns `csv` reads.
        encoding: the files' encoding; a line that does not decode is skipped and counted.
        tokens: `words` (each word an id) or `subwords` (WordPiece pieces learned from the training texts, so an
            unseen word is read through its pieces; tensorflow-text).
        min_count: words (pieces) seen fewer times in training are `<unk>` (not learned).
        max_words: vocabulary size cap, most frequent first (0: no cap); for `subwords`, the number of pieces
            to learn (0: 8,000).
        max_tokens: ids per text, `<bos>` and `<eos>` included (longer texts are cut; LiteRT reads this many).
        word_dropout: in training, each word is read as `<unk>` with this probability (a fresh draw every
            epoch), so no single word can carry a label alone.
        validation_fraction, test_fraction: of a source without its own splits, by a stable hash of the text.
        phrases: `sst2` only: train on `stsa.binary.phrases.train` in the same folder (about 77,000 labelled
            phrases of the training sentences' parse trees, the sentences among them) instead of the 6,920
            sentences of `stsa.binary.train`; validation and test stay whole sentences. This is how Kim 2014
            and Tai et al. 2015 trained for their SST-2 figures.
    """

    source: str = "sst2"
    path: str = ""
    text_column: str = "text"
    label_column: str = "label"
    encoding: str = "utf-8"
    tokens: typing.Literal["words", "subwords"] = "words"
    min_count: NonNegativeInt = 2
    max_words: NonNegativeInt = 20000
    max_tokens: typing.Annotated[int, Range(3)] = 64  # <bos>, a word, <eos>
    word_dropout: Fraction = 0.0
    validation_fraction: Fraction = 0.1
    test_fraction: Fraction = 0.1
    phrases: bool = False


# Chosen on SST-2's validation split (the model cards list the settings tried): a few epochs at 1e-3 with strong
# decoupled weight decay, words seen once left out; from scratch, the model memorises the training sentences
# within three epochs, so the checkpoint best on validation accuracy is kept.
_TRAIN = TrainConfig(epochs=6, batch_size=32, learning_rate=1e-3, schedule="cosine", warmup_epochs=0.5,
                     weight_decay=0.05, clipnorm=1.0)


def recipes() -> list[Recipe]:
    """One recipe per cell on SST-2, all else equal but the BiLSTM's second direction."""
    # adversarial=0.3: chosen on validation over seeds 0-2 (81.35 %; 80.39 % without, 80.89 % with 0.5). It lifts the
    # GRU and LSTM on validation too and costs the plain RNN 1.1 points (78.32 % against 79.44 %), so the RNN recipe
    # trains without it (the model cards).
    bilstm = Recipe("sentiment_bilstm_s_sst2", NAME, "SST-2 sentences, BiLSTM 64 over words learned from scratch",
                    SentimentModel(cell="lstm", bidirectional=True, adversarial=0.3), SentimentData(), _TRAIN)
    titles = {"gru": "GRU", "lstm": "LSTM", "rnn": "plain RNN (the baseline gates improved on)"}
    return [bilstm] + [
        dataclasses.replace(bilstm, name=f"sentiment_{cell}_s_sst2",
                            description=f"SST-2 sentences, {titles[cell]} 64 over words learned from scratch",
                            model=dataclasses.replace(bilstm.model, cell=cell, bidirectional=False,
                                                      adversarial=0.0 if cell == "rnn" else bilstm.model.adversarial))
        for cell in ("gru", "lstm", "rnn")]
