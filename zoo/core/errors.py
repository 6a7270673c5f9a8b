"""The one error type commands turn into a single line and a non-zero exit."""

from __future__ import annotations

import functools
import sys


class ZooError(Exception):
    """A user-facing error: bad input, a missing file, an unknown name.

    The message must name the thing at fault and the cause, on one line.
    """


def one_line_errors(fn):
    """Wraps a command's entry point: a `ZooError` (or an `OSError`: no room, no permission) becomes
    `error: ...` on stderr and exit 1, no traceback.

    The CLI's commands and the benchmarks in `bench/` use it alike.

    Example:
        >>> @one_line_errors
        ... def main():
        ...     raise ZooError("x.wav: empty file")
        >>> try:
        ...     main()
        ... except SystemExit as e:
        ...     e.code
        1
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ZooError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(1)
        except OSError as e:  # a folder that cannot be made or read: no room, no permission
            where = f"{e.filename}: " if e.filename else ""
            print(f"error: {where}{e.strerror or e}", file=sys.stderr)
            sys.exit(1)

    return wrapper
