"""The one error type the CLI turns into a single line and a non-zero exit."""


class ZooError(Exception):
    """A user-facing error: bad input, a missing file, an unknown name.

    The message must name the thing at fault and the cause, on one line.
    """
