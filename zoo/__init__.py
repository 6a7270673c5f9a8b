"""Recurrent Zoo: recurrent networks (RNN, LSTM, GRU) for speech and text, trained,
exported to SavedModel and LiteRT, and run on a device.

The public API is `zoo.api` (`zoo.load`, `zoo.recipes`, `zoo.train`, ...). It
is imported on first use of one of its names, so `import zoo` (and the `zoo`
command's `--help`) stays quick: the API loads TensorFlow.
"""

import importlib

__version__ = "0.1.0"

_API = ("load", "recipes", "resolve", "train", "evaluate", "evaluate_stream", "export", "gates", "gradients", "compare")


def __getattr__(name):
    if name in _API:
        return getattr(importlib.import_module("zoo.api"), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return [*globals(), *_API]
