"""Train a named recipe: `python train.py RECIPE [--data KIND:PATH] [--set k=v ...]`.

A thin shim over `zoo train`; see zoo/core/train.py for the training loop itself.
"""

import sys

from zoo.cli import main

if __name__ == "__main__":
    main(["train", *sys.argv[1:]])
