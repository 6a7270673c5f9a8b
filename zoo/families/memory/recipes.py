"""Long-memory recipes: the adding problem, one recipe per cell.

The adding problem (Hochreiter and Schmidhuber 1997; the form of Le et al. 2015):
each step carries a value drawn from U(0, 1) and a marker; exactly two steps are
marked, one in each half of the sequence, and the target is the sum of the two
marked values. The model reads the whole sequence and answers at the last step,
so the first marked value must be kept for at least `length / 2` steps. Always
answering 1 (the mean) scores a mean squared error of 1/6.

Example:
    >>> [r.name for r in recipes()]
    ['memory_rnn_s_adding', 'memory_lstm_s_adding', 'memory_gru_s_adding']
    >>> recipes()[0].data.length
    100
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from zoo.core.recipe import Positive, PositiveInt, Range, Recipe, TrainConfig
from zoo.nn.cells import Cell

NAME = "memory"
SOURCES = ("adding",)


@dataclass(frozen=True)
class MemoryModel:
    """Attributes:
        cell: `rnn`, `lstm` or `gru`.
        units: state size of each recurrent layer.
        layers: stacked recurrent layers; the last one's final state feeds the answer.
    """

    cell: Cell = "lstm"
    units: PositiveInt = 64
    layers: PositiveInt = 1


@dataclass(frozen=True)
class MemoryData:
    """Attributes:
        source: `adding` (generated; no files).
        path: unused (the task is generated).
        length: steps per sequence, T; the first marked value is kept for at least T / 2 steps.
        tolerance: an answer within this of the true sum counts as right (0.04, as in
            Hochreiter and Schmidhuber 1997).
        validation_size: sequences in the fixed validation set (the same for every seed).
        test_size: sequences in the fixed test set (another draw, never trained on).
    """

    source: str = "adding"
    path: str = ""
    length: typing.Annotated[int, Range(2)] = 100  # one marker in each half
    tolerance: Positive = 0.04
    validation_size: PositiveInt = 2000
    test_size: PositiveInt = 2000


# 18 epochs of 500 fresh batches: 9,000 steps of 64 sequences, the same budget for every cell and length.
# Adam at a constant 1e-3 with the gradient norm clipped to 1, the usual setting for this task.
_TRAIN = TrainConfig(epochs=18, steps_per_epoch=500, batch_size=64, learning_rate=1e-3, schedule="constant",
                     warmup_epochs=0.0, weight_decay=0.0, clipnorm=1.0)


def recipes() -> list[Recipe]:
    """The family's named recipes (task_arch_size_dataset): one per cell, all else equal."""
    lstm = Recipe("memory_lstm_s_adding", NAME, "", MemoryModel(cell="lstm"), MemoryData(), _TRAIN)
    titles = {"rnn": "plain RNN (the baseline gates improved on)", "lstm": "LSTM", "gru": "GRU"}
    return [dataclasses.replace(lstm, name=f"memory_{cell}_s_adding",
                                description=f"adding problem, T = 100 (--set data.length=T), {titles[cell]} 64",
                                model=dataclasses.replace(lstm.model, cell=cell))
            for cell in ("rnn", "lstm", "gru")]
