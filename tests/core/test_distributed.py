"""The multi-worker training loop, in one process: on one worker it is `model.fit`, bit for bit, for every family.

Two real worker processes on loopback are `test_multiworker.py`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import zoo
from zoo.core import distributed
from zoo.core.errors import ZooError
from zoo.core.recipe import apply_overrides
from zoo.families.registry import FAMILIES, registry


def _tf_config(kind="worker", index=0, workers=2):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{2000 + i}" for i in range(workers)]},
                       "task": {"type": kind, "index": index}})


def test_auto_chooses_multiworker_only_for_a_cluster_of_several_tasks():
    assert distributed.choose("auto", {}) == "one"
    assert distributed.choose("auto", {"TF_CONFIG": _tf_config(workers=1)}) == "one"
    assert distributed.choose("auto", {"TF_CONFIG": _tf_config(workers=2)}) == "multiworker"
    assert distributed.choose("mirrored", {"TF_CONFIG": _tf_config()}) == "mirrored"
    with pytest.raises(ZooError, match="--strategy tpu: unknown; choose one of auto, one, mirrored, multiworker"):
        distributed.choose("tpu", {})


@pytest.mark.parametrize("text, cause", [
    ("{not json", "Expecting property name"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "'task'"),
    (_tf_config(index=2), "task worker:2 is not in the cluster"),
    ('{"cluster": ["127.0.0.1:1"], "task": {"type": "worker", "index": 0}}', "cluster must map"),
])
def test_a_bad_tf_config_is_one_line(text, cause):
    with pytest.raises(ZooError, match="TF_CONFIG: not a valid cluster description") as e:
        distributed.cluster_config({"TF_CONFIG": text})
    assert f"({cause}" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_multiworker_loop_on_one_worker_is_model_fit_bit_for_bit(name, tmp_path, monkeypatch):
    """Same recipe, seed and data: `--strategy multiworker` (no TF_CONFIG: one local worker, the custom loop
    with its callbacks driven by hand) and `--strategy one` (`model.fit`) end with identical state and
    history."""
    monkeypatch.delenv("TF_CONFIG", raising=False)
    family = FAMILIES[name]
    recipe = family.tiny(next(r for r in registry() if r.family == name))
    recipe = apply_overrides(recipe, ["train.epochs=2", "train.deterministic=True", "train.max_seconds=0",
                                      "train.schedule='cosine'"])
    recipe = family.with_data(recipe, family.sample_data(tmp_path / "data", recipe))
    runs = {}
    for strategy in ("one", "multiworker"):
        runs[strategy] = tmp_path / strategy
        metrics, _ = zoo.train(recipe, runs[strategy], data_root=tmp_path / "root", verbose=0, strategy=strategy)
    assert metrics["strategy"] == "multiworker" and metrics["workers"] == 1
    with np.load(runs["one"] / "checkpoints/epoch-0002.npz") as a, \
            np.load(runs["multiworker"] / "checkpoints/epoch-0002.npz") as b:
        assert a.files == b.files
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)

    def rows(run):  # the logged metrics, all but the wall clock
        header, *lines = (run / "history.csv").read_text().splitlines()
        keep = [i for i, k in enumerate(header.split(",")) if k != "seconds"]
        return [[line.split(",")[i] for i in keep] for line in [header, *lines]]

    assert rows(runs["one"]) == rows(runs["multiworker"])
