"""Text-generation recipes: the model and data sections, and the named recipes.

Example:
    >>> [r.name for r in recipes()][:2]
    ['chargen_gru_s_pydocs', 'chargen_gru_s_shakespeare']
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from zoo.core.recipe import Fraction, PositiveInt, Range, Recipe, TrainConfig
from zoo.nn.cells import Cell

NAME = "chargen"
SOURCES = ("pydocs", "shakespeare", "text")


@dataclass(frozen=True)
class ChargenModel:
    """Attributes:
        cell: `rnn`, `lstm` or `gru`.
        units: state size of each recurrent layer.
        layers: stacked recurrent layers.
        embedding: character embedding width.
        dropout: after the embedding and after each recurrent layer (training only).
    """

    cell: Cell = "gru"
    units: PositiveInt = 256
    layers: PositiveInt = 1
    embedding: PositiveInt = 64
    dropout: Fraction = 0.0


@dataclass(frozen=True)
class ChargenData:
    """Attributes:
        source: `pydocs` (built in), `shakespeare` or `text` (a file or folder).
        path: file or folder for `text`; a local copy for `shakespeare` (else downloaded).
        encoding: the text's encoding.
        validation_fraction: the last part of the corpus held out, in order.
        seq_len: characters per training window (backpropagation through time).
    """

    source: str = "pydocs"
    path: str = ""
    encoding: str = "utf-8"
    validation_fraction: typing.Annotated[float, Range(0.0, 1.0, low_open=True, high_open=True)] = 0.1
    seq_len: PositiveInt = 128


_PYDOCS = ChargenData(source="pydocs", seq_len=64)
_SHAKESPEARE = ChargenData(source="shakespeare", seq_len=64)
# Many small updates (32 windows of 64 characters) beat few large ones on a 2-core
# CPU, and the learning rate follows a cosine over the wall-clock budget, so a run
# ends annealed whatever `train.max_seconds` is (see the model cards).
_TIMED = TrainConfig(epochs=100_000, batch_size=32, learning_rate=5e-3, schedule="time_cosine",
                     weight_decay=0.0, clipnorm=1.0, max_seconds=190.0, steps_per_epoch=100)


def recipes() -> list[Recipe]:
    """The family's named recipes (task_arch_size_dataset)."""
    small = ChargenModel(cell="gru", units=256, layers=1, embedding=64)
    medium = ChargenModel(cell="gru", units=512, layers=1, embedding=64, dropout=0.1)
    timed_m = dataclasses.replace(_TIMED, learning_rate=3e-3, max_seconds=900.0)
    gru_s = Recipe("chargen_gru_s_shakespeare", NAME, "Tiny Shakespeare, GRU 256, 190-second budget",
                   small, _SHAKESPEARE, _TIMED)
    gru_m = Recipe("chargen_gru_m_shakespeare", NAME, "Tiny Shakespeare, GRU 512, 15-minute budget",
                   medium, _SHAKESPEARE, timed_m)
    return [
        Recipe("chargen_gru_s_pydocs", NAME, "characters of Python's reference docs (built in, offline), GRU 256",
               small, _PYDOCS, dataclasses.replace(_TIMED, max_seconds=300.0)),
        gru_s,
        gru_m,
        dataclasses.replace(gru_m, name="chargen_lstm_m_shakespeare",
                            description="Tiny Shakespeare, LSTM 512, 15-minute budget",
                            model=dataclasses.replace(medium, cell="lstm")),
        dataclasses.replace(gru_m, name="chargen_rnn_m_shakespeare",
                            description="Tiny Shakespeare, plain RNN 512 (the baseline LSTM/GRU improved on)",
                            model=dataclasses.replace(medium, cell="rnn")),
    ]
