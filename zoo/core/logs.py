"""Keeps TensorFlow's native start-up logging off the terminal.

TensorFlow 2.21 on a CPU-only machine writes six or seven lines from C++ when
it loads and first runs (oneDNN notice, CUDA probes, an `E`-level cuInit
failure), before absl logging starts, so `TF_CPP_MIN_LOG_LEVEL` alone leaves
four to six of them; LiteRT adds an XNNPACK line. `silence_native_stderr`
points file descriptor 2 at /dev/null and gives Python's `sys.stderr` a
duplicate of the real terminal, so everything Python writes (errors,
warnings, tracebacks, progress) still shows, and only native code is muted.
"""

from __future__ import annotations

import os
import sys


def quiet_environment() -> None:
    """Environment settings TensorFlow reads at import (lower its own log levels)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")


def silence_native_stderr() -> None:
    """Sends what native code writes to fd 2 to /dev/null; Python's stderr keeps the terminal.

    Only for a real process (the `zoo` command): call it before TensorFlow loads.
    """
    sys.stderr.flush()
    terminal = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
                           errors="backslashreplace")
