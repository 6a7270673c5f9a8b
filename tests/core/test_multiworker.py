"""Two real `zoo train --strategy multiworker` processes on 127.0.0.1 (TF_CONFIG), as users launch them.

They train a tiny keyword recipe (BatchNormalization included), end with identical state, and only worker 0
writes the run directory; a resumed run (the chief restores, the other worker is sent the state) ends where the
uninterrupted one did.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from zoo.cli import command_line
from zoo.core.distributed import loopback_configs
from zoo.core.recipe import apply_overrides, overrides_between
from zoo.families.registry import FAMILIES, registry


def _cluster(args: list[str], scratch: list[Path]) -> list[subprocess.CompletedProcess]:
    """Runs `zoo train ARGS --strategy multiworker` as worker 0 and worker 1 at once; worker i's temporary
    files go to scratch[i]."""
    procs = []
    for index, config in enumerate(loopback_configs(2)):
        scratch[index].mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TMPDIR=str(scratch[index]), TF_CONFIG=config)
        procs.append(subprocess.Popen(command_line("train", *args, "--strategy", "multiworker"), env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            p.kill()
    return [subprocess.CompletedProcess(p.args, p.returncode, out, err) for p, (out, err) in zip(procs, outputs)]


def _report(proc) -> dict:
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = "\n" + proc.stdout  # progress lines (the chief's), then the JSON report
    return json.loads(text[text.index("\n{") + 1:text.rindex("}") + 1])


def _tiny_args(folder: Path, name: str, overrides: list[str]) -> list[str]:
    """`zoo train` arguments for the family's tiny version of recipe `name` with `overrides`, on sample data
    written under `folder`."""
    base = registry().get(name)
    family = FAMILIES[base.family]
    recipe = apply_overrides(family.tiny(base), overrides)
    data = family.sample_data(folder / "data", recipe)
    return [name, "--data", data, "--data-root", str(folder / "root"),
            *[f"--set={s}" for s in overrides_between(recipe, base)]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multiworker")
    return folder, _tiny_args(folder, "kws_ugru_s_fsdd", ["train.epochs=3", "train.batch_size=8",
                                                          "train.deterministic=True", "train.schedule='cosine'"])


def test_two_workers_end_identical_and_only_the_chief_writes(tiny):
    folder, args = tiny
    run, other = folder / "run", folder / "worker1-out"
    scratch = [folder / "tmp0", folder / "tmp1"]
    chief, worker = _cluster([*args, "--out", str(run)], scratch)
    # Worker 1 is given another --out: it must not be written, nor anything left in its temporary folder.
    chief_report, worker_report = _report(chief), _report(worker)
    assert chief_report["workers"] == worker_report["workers"] == 2 and chief_report["strategy"] == "multiworker"
    assert chief_report["final_state_sha256"] == worker_report["final_state_sha256"]
    assert worker_report["epochs_run"] == 3 and "run directory" not in worker.stdout
    assert (run / "model.keras").is_file() and (run / "metrics.json").is_file()
    assert len((run / "history.csv").read_text().splitlines()) == 4  # header and each epoch once
    assert not other.exists() and not any(scratch[1].iterdir())
    digest = chief_report["final_state_sha256"]

    # Killed after epoch 3's history row and model, before its checkpoint: both resume from epoch 2.
    (run / "checkpoints" / "epoch-0003.npz").unlink()
    resumed = _cluster(["kws_ugru_s_fsdd", "--resume", "--out", str(run)], scratch)
    assert [_report(p)["final_state_sha256"] for p in resumed] == [digest, digest]
    assert len((run / "history.csv").read_text().splitlines()) == 4


def test_an_adversarial_embedding_step_is_taken_alike_on_both_workers(tmp_path):
    """The sentiment recipe moves its embedding table along the loss gradient before each step; the two workers
    see different halves of each batch, so they must agree on one move (the gradients' mean) to stay equal."""
    assert registry().get("sentiment_bilstm_s_sst2").model.adversarial > 0
    args = _tiny_args(tmp_path, "sentiment_bilstm_s_sst2", ["train.epochs=2", "train.batch_size=8"])
    reports = [_report(p) for p in _cluster([*args, "--out", str(tmp_path / "run")], [tmp_path / "tmp0",
                                                                                      tmp_path / "tmp1"])]
    assert reports[0]["final_state_sha256"] == reports[1]["final_state_sha256"]
