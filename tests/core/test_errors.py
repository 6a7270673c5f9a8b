"""Benchmarks fail as commands do: one `error:` line naming the cause, exit 1, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("args", [
    ["bench/listener.py", "{missing}", "--stream", "{missing}.wav", "--events", "{missing}.json"],
    ["bench/noisy_clips.py", "{missing}"],
    ["bench/make_stream.py", "{missing}", "--out", "{tmp}/s"],
])
def test_a_benchmark_given_a_missing_run_says_so_in_one_line(args, tmp_path):
    missing = str(tmp_path / "no_such_run")
    argv = [a.format(missing=missing, tmp=tmp_path) for a in args]
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(errors) == 1 and missing in errors[0]
    assert list(tmp_path.iterdir()) == []
