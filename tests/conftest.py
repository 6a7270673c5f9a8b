"""Shared fixtures: tiny data sets the tests make themselves (no network, no ../shared)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.families.kws.sample import write_digit_folder

WORDS = ("zero", "one", "two")


@pytest.fixture(autouse=True)
def _same_random_state():
    """Every test starts from the same random state (Python, NumPy, TensorFlow, Keras), whichever of the two
    test processes runs it and whatever ran before it there."""
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def digit_folder(tmp_path_factory):
    """An FSDD-layout folder `{digit}_{speaker}_{take}.wav`, spoken by eSpeak NG at 8 kHz."""
    return write_digit_folder(tmp_path_factory.mktemp("fsdd"), WORDS)


def tone(seconds=0.5, rate=16000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="session")
def zoo():
    """Runs the `zoo` CLI in-process: zoo(*args, ok=True) -> click Result (stdout, stderr, exit_code)."""
    from click.testing import CliRunner

    from zoo.cli import main

    def run(*args, ok=True):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run

