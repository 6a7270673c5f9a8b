"""Export a run: `python export.py RUN --format tflite [--quantize dynamic]`.

A thin shim over `zoo export`; see zoo/core/export.py for the conversion and its self-check.
"""

import sys

from zoo.cli import main

if __name__ == "__main__":
    main(["export", *sys.argv[1:]])
