"""The recurrent cells a recipe can choose, as a type (light: no TensorFlow).

Example:
    >>> typing.get_args(Cell)
    ('rnn', 'lstm', 'gru')
"""

from __future__ import annotations

import typing

#: A recipe field of this type accepts exactly these names (`--set model.cell=...` is checked).
Cell = typing.Literal["rnn", "lstm", "gru"]
CELLS: tuple[str, ...] = typing.get_args(Cell)
