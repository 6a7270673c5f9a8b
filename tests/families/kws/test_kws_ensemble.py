"""`zoo ensemble`: runs trained apart joined into one run that averages their probabilities."""

import json
import shutil

import keras
import numpy as np
import pytest

from zoo.audio.decode import read_wav
from zoo.families.registry import FAMILIES

TINY = ["--set", "model.units=4", "--set", "model.layers=1", "--set", "train.epochs=1",
        "--set", "train.batch_size=16", "--set", "data.words=('zero', 'one', 'two')"]


@pytest.fixture(scope="module")
def members(zoo, digit_folder, tmp_path_factory):
    """Two tiny causal runs of one recipe, seeds 0 and 1, and their data root."""
    root = tmp_path_factory.mktemp("members")
    data_root = root / "data"
    for seed in (0, 1):
        zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", root / f"seed{seed}",
            "--data-root", data_root, *TINY, "--set", f"train.seed={seed}")
    return [root / "seed0", root / "seed1"], data_root


def _load(run_dir):
    return keras.saving.load_model(run_dir / "model.keras", safe_mode=True,
                                   custom_objects=FAMILIES["kws"].custom_objects())


def test_the_ensemble_answers_with_its_members_mean_probabilities(zoo, members, digit_folder, tmp_path):
    runs, data_root = members
    copies = [shutil.copytree(run, tmp_path / run.name) for run in runs]
    out = tmp_path / "ensemble"
    result = zoo("ensemble", *copies, "--out", out, "--data-root", data_root)
    assert "run directory" in result.output
    assert json.loads((out / "recipe.json").read_text())["model"]["members"] == 2
    assert json.loads((out / "ensemble.json").read_text())["members"] == [str(c) for c in copies]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["members"] == 2 and 0.0 <= metrics["test_accuracy"] <= 1.0

    takes = [read_wav(path, 8000)[:8000] for path in sorted(digit_folder.glob("*.wav"))[:4]]
    clips = np.stack([np.pad(take, (0, 8000 - len(take))) for take in takes])
    probs = [keras.ops.convert_to_numpy(keras.ops.softmax(_load(c)(clips))) for c in copies]
    ensemble = keras.ops.convert_to_numpy(_load(out)(clips))
    assert np.allclose(np.exp(ensemble), np.mean(probs, axis=0), atol=1e-5)

    for copy in copies:  # the ensemble needs nothing of its members afterwards
        shutil.rmtree(copy)
    zoo("eval", out, "--data-root", data_root)
    gates = zoo("gates", out, sorted(digit_folder.glob("*.wav"))[0], "--layer", 2, "--out", tmp_path / "g.png")
    assert json.loads(gates.output)["layer_name"] == "m2_gru1"  # the second member's layer, reached through it
    exported = zoo("export", out, "--streaming", "--data-root", data_root)
    check = json.loads(exported.output[exported.output.index("{"):])
    assert check["max_logit_diff"] < 1e-4 and check["hop_samples"] == 80


def test_runs_that_do_not_fit_together_are_refused_in_one_line(zoo, members, digit_folder, tmp_path):
    runs, data_root = members
    other = tmp_path / "wider"
    zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", other, "--data-root", data_root,
        *TINY, "--set", "model.units=3")
    relabelled = shutil.copytree(runs[1], tmp_path / "relabelled")
    (relabelled / "labels.json").write_text(json.dumps(["two", "one", "zero"]))
    cases = [((runs[0],), "two runs or more"),
             ((runs[0], other), "model.units"),
             ((runs[0], relabelled), "labels differ"),
             ((runs[0], tmp_path / "missing"), "not a run directory")]
    for given, cause in cases:
        out = tmp_path / "never"
        result = zoo("ensemble", *given, "--out", out, "--data-root", data_root, ok=False)
        assert result.exit_code == 1 and cause in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not out.exists()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    result = zoo("ensemble", *runs, "--out", taken, "--data-root", data_root, ok=False)
    assert result.exit_code == 1 and "exists" in result.output
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
