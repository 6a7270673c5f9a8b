"""A child process's wall time and peak resident memory, as the kernel counts it (`wait4`'s `ru_maxrss`).

The benchmarks that compare memory run each command as its own process and read this.

Example:
    >>> import sys, tempfile, pathlib
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "child.log"
    >>> done = measure([sys.executable, "-c", "print('hello')"], log)
    >>> done.returncode, done.peak_mb > 0, log.read_text()
    (0, True, 'hello\\n')
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Measured:
    returncode: int
    peak_mb: float
    seconds: float

    def last_line(self, log: Path) -> str:
        """The last line the command wrote (its error, when it failed)."""
        return (Path(log).read_text(errors="replace").strip().splitlines() or [""])[-1]


def measure(argv: list, log: Path) -> Measured:
    """Runs `argv` with its output (stdout and stderr) written to `log`, and waits for it."""
    began = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    return Measured(os.waitstatus_to_exitcode(status), round(usage.ru_maxrss / 1024, 1),
                    round(time.monotonic() - began, 1))
