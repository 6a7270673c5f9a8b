"""End to end through the `zoo` CLI: train a tiny recipe, eval, export, predict; bad input."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from zoo.cli import command_line, main
from zoo.core import checkpoints
from zoo.families.registry import FAMILIES

TINY = ["--set", "model.units=4", "--set", "model.layers=1", "--set", "train.epochs=2",
        "--set", "train.batch_size=16", "--set", "data.words=('zero', 'one', 'two')"]


@pytest.fixture(scope="module")
def run_dir(zoo, digit_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    data_root = tmp_path_factory.mktemp("data")
    zoo("train", "kws_gru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out,
        "--data-root", data_root, *TINY)
    return out, data_root


def test_train_writes_a_self_contained_run(run_dir):
    out, _ = run_dir
    for name in ("recipe.json", "model.keras", "labels.json", "history.csv", "metrics.json",
                 "data.json", "curves.png", "confusion_test.png"):
        assert (out / name).is_file(), name
    assert (out / "checkpoints").is_dir() and (out / "logs").is_dir()
    recipe = json.loads((out / "recipe.json").read_text())
    assert recipe["model"]["units"] == 4 and recipe["train"]["epochs"] == 2
    assert json.loads((out / "labels.json").read_text()) == ["zero", "one", "two"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["clips"] == 30 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert len((out / "history.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs


def test_eval_on_all_clips(zoo, run_dir, digit_folder):
    out, data_root = run_dir
    args = ["eval", out, "--data", f"fsdd:{digit_folder}", "--split", "all", "--data-root", data_root]
    result = json.loads(zoo(*args, "--json").stdout)
    assert result["clips"] == 72 and set(result["per_class"]) <= {"zero", "one", "two"}
    assert json.loads((out / "eval_fsdd_all.json").read_text()) == result  # what scripts read is what was kept
    assert (out / "confusion_fsdd_all.png").is_file()
    lines = zoo(*args).stdout.splitlines()  # without --json: the scalar figures, one a line
    assert "clips" in lines[0] and any(line.split()[0] == "accuracy" for line in lines)


@pytest.mark.parametrize("quantize", ["none", "dynamic", "int8"])
def test_export_tflite_checks_itself_and_predicts(zoo, run_dir, digit_folder, quantize):
    out, data_root = run_dir
    report = json.loads(zoo("export", out, "--format", "tflite", "--quantize", quantize,
                            "--data-root", data_root).stdout)
    path = out / "exports" / f"model_{ {'none': 'float', 'dynamic': 'dynamic', 'int8': 'int8'}[quantize]}.tflite"
    assert report["file"] == str(path) and path.is_file()
    assert report["clips"] == 30 and report["size_bytes"] == path.stat().st_size
    tolerance = {"none": 1e-3, "dynamic": 0.5, "int8": 2.0}[quantize]
    assert report["max_logit_diff"] < tolerance
    ledger = json.loads((out / "exports" / "export.json").read_text())
    assert path.name in ledger
    wav = digit_folder / "1_alice_3.wav"
    lines = zoo("predict", path, wav, "--json", "--top-k", "2").stdout.strip().splitlines()
    result = json.loads(lines[0])
    assert result["file"] == str(wav) and len(result["top"]) == 2
    scores = [p["score"] for p in result["top"]]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001


def test_export_savedmodel_and_predict_agree_with_run(zoo, run_dir, digit_folder):
    out, data_root = run_dir
    report = json.loads(zoo("export", out, "--format", "savedmodel", "--data-root", data_root).stdout)
    assert report["max_logit_diff"] < 1e-4 and report["accuracy"] == report["keras_accuracy"]
    sm = out / "exports" / "saved_model"
    from_run = json.loads(zoo("predict", out, digit_folder / "2_bob_0.wav", "--json").stdout)
    from_sm = json.loads(zoo("predict", sm, digit_folder / "2_bob_0.wav", "--json").stdout)
    assert from_run["top"][0]["label"] == from_sm["top"][0]["label"]
    assert abs(from_run["top"][0]["score"] - from_sm["top"][0]["score"]) < 1e-3
    folder = zoo("predict", out, digit_folder).stdout.strip().splitlines()
    assert len(folder) == 72


def test_resume_continues_from_the_last_checkpoint(zoo, run_dir, tmp_path):
    out, data_root = run_dir
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(out, copy)
    recipe = json.loads((copy / "recipe.json").read_text())
    recipe["train"]["epochs"] = 3
    (copy / "recipe.json").write_text(json.dumps(recipe))
    zoo("train", "kws_gru_s_fsdd", "--out", copy, "--resume", "--data-root", data_root)
    rows = (copy / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 4 and rows[-1].startswith("2,")  # only epoch 3 (index 2) was added


def test_max_seconds_stops_training(zoo, digit_folder, tmp_path):
    out = tmp_path / "budget"
    zoo("train", "kws_gru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root",
        tmp_path, *TINY, "--set", "train.epochs=500", "--set", "train.max_seconds=3")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stopped_by_budget"] and metrics["epochs_run"] < 500
    assert (out / "model.keras").is_file()


def test_keep_last_keeps_the_last_epochs_weights(zoo, digit_folder, tmp_path):
    out = tmp_path / "last"
    zoo("train", "kws_gru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root", tmp_path,
        *TINY, "--set", "train.epochs=3", "--set", "train.keep='last'")
    custom = FAMILIES["kws"].custom_objects()
    model = keras.saving.load_model(out / "model.keras", safe_mode=True, custom_objects=custom)
    kept = model.get_weights()
    assert checkpoints.restore(model, out / "checkpoints") == (3, [])  # the last epoch's checkpoint
    for a, b in zip(kept, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    result = zoo("train", "kws_gru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", tmp_path / "bad",
                 "--data-root", tmp_path, *TINY, "--set", "train.keep='final'", ok=False)
    assert result.exit_code == 1 and "train.keep: 'final' is not one of 'best', 'last'" in result.output
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("option", ["cut_percent", "partial_percent"])
def test_cut_words_need_a_silence_class(zoo, digit_folder, tmp_path, option):
    result = zoo("train", "kws_gru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", tmp_path / "o",
                 "--data-root", tmp_path, *TINY, "--set", f"data.{option}=20.0", ok=False)
    assert result.exit_code == 1 and f"data.{option} labels cut words _silence_ (wholly or in part)" in result.output
    assert not (tmp_path / "o").exists()


def test_a_recipe_that_cannot_be_built_leaves_no_run(zoo, digit_folder, tmp_path):
    out = tmp_path / "o"
    result = zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root", tmp_path,
                 *TINY, "--set", "model.pooling='attention'", ok=False)
    assert result.exit_code == 1 and "model.causal=True, but its pooling (attention)" in result.output
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["train", "kws_nope"], "unknown recipe 'kws_nope'; known recipes: "),
    (["train", "kws_gru_s_fsdd", "--set", "train.epoch=3"], "unknown key train.epoch; valid keys:"),
    (["train", "kws_gru_s_fsdd", "--data", "fsdd:/no/such/folder"], "/no/such/folder: no such folder (fsdd data)"),
    (["train", "kws_gru_s_fsdd", "--data", "mp3s:/x"], "unknown kind 'mp3s'"),
    (["eval", "/no/such/run"], "/no/such/run: not a run directory"),
    (["predict", "/no/such/model.tflite", "x.wav"], "/no/such/model.tflite: no such model"),
    (["gradients", "/no/such/run"], "/no/such/run: not a run directory"),
    (["compare", "kws_gru_s_fsdd", "--cells", "rnn,transformer"], "--cells rnn,transformer: choose from rnn,"),
    (["compare", "kws_gru_s_fsdd", "--seeds", "0"], "--seeds 0: at least 1"),
    (["gradients", "/no/a", "/no/b"], "several runs share one figure: name it with --out FILE.png"),
    (["gradients"], "give one or more runs, or --recipe"),
    (["gradients", "/no/a", "--recipe", "kws_gru_s_fsdd"], "give runs or --recipe, not both"),
    (["gradients", "--recipe", "kws_gru_s_fsdd", "--cells", "lstm,tcn"], "--cells lstm,tcn: choose from"),
])
def test_bad_input_is_one_line_and_nonzero(args, message, tmp_path):
    result = CliRunner().invoke(main, args + (["--out", str(tmp_path / "o")] if args[0] == "train" else []))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_predict_bad_wavs_are_reported_by_name(run_dir, digit_folder, tmp_path):
    out, _ = run_dir
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = CliRunner().invoke(main, ["predict", str(out), str(digit_folder / "0_bob_1.wav"),
                                       str(corrupt), str(empty)])
    assert result.exit_code == 1
    assert "corrupt.wav: not a readable audio file" in result.output
    assert "empty.wav: empty file" in result.output
    assert "0_bob_1.wav:" in result.output and "Traceback" not in result.output


def test_real_process_prints_no_traceback(tmp_path):
    wav = tmp_path / "x.wav"
    sf.write(wav, np.zeros(800, np.float32), 8000)
    proc = subprocess.run([sys.executable, "-m", "zoo.cli", "train", "kws_gru_s_fsdd", "--set", "train.nope=1"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: --set 'train.nope=1': unknown key")
    assert "Traceback" not in proc.stderr


def test_list_shows_every_recipe(zoo):
    output = zoo("list").stdout
    assert output.splitlines()[0].split()[:6] == ["name", "family", "cell", "params", "streams", "data"]
    rows = {line.split()[0]: line.split() for line in output.splitlines()[1:]}
    for name in ("kws_gru_s_fsdd", "kws_lstm_s_fsdd", "kws_crnn_m_sc12"):
        assert rows[name][4] == "-"
    for name in ("kws_ugru_s_fsdd", "kws_ulstm_s_fsdd", "kws_ugru_s_ttsdigits", "kws_ucrnn_s_tts"):
        assert rows[name][4] == "yes"


def test_a_bidirectional_run_refuses_to_stream_in_one_line(zoo, run_dir):
    out, data_root = run_dir
    result = zoo("export", out, "--streaming", "--data-root", data_root, ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == ("error: kws_gru_s_fsdd cannot stream: it reads each clip both ways "
                                     "(bidirectional), so it needs the whole clip before it can score")


def _wav_cases(tmp_path):
    """Broken wavs as users meet them: (file, the cause the one line names)."""
    good = tmp_path / "good.wav"
    sf.write(good, np.sin(np.arange(8000) / 5.0).astype(np.float32) * 0.3, 8000, subtype="PCM_16")
    data = good.read_bytes()
    cases = {"empty.wav": (b"", "empty file"), "truncated.wav": (data[:3000], "truncated wav"),
             "notwave.wav": (b"ID3\x03\x00 an mp3 renamed to .wav" * 4, "not a readable audio file")}
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    sf.write(tmp_path / "nan.wav", np.full(800, np.nan, np.float32), 8000, subtype="FLOAT")
    return {name: cause for name, (_, cause) in cases.items()} | {"nan.wav": "audio contains NaN or infinite samples"}


def _zoo_process(*args):
    """The installed `zoo` command in a clean environment (no variables but PATH), as a user runs it."""
    return subprocess.run(command_line(*args), capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=300)


def test_each_bad_input_is_exactly_one_line_on_the_terminal(run_dir, tmp_path):
    out, _ = run_dir
    empty_folder = tmp_path / "no_wavs"
    empty_folder.mkdir()
    cases = [(["predict", out, tmp_path / name], f"{name}: {cause}") for name, cause in _wav_cases(tmp_path).items()]
    cases += [
        (["predict", out, tmp_path / "missing.wav"], "missing.wav: no such file"),
        (["predict", tmp_path / "no_model.tflite", tmp_path / "good.wav"], "no_model.tflite: no such model"),
        (["train", "kws_gru_s_fsdd", "--data", f"folder:{empty_folder}", "--out", tmp_path / "r"], "no_wavs"),
        (["train", "kws_nope"], "unknown recipe 'kws_nope'"),
        (["train", "kws_gru_s_fsdd", "--set", "train.nope=1"], "unknown key train.nope"),
    ]
    for args, message in cases:
        proc = _zoo_process(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (args, proc.stderr)
    assert not (tmp_path / "r").exists()


def test_verbose_lets_tensorflow_speak(run_dir, tmp_path):
    out, _ = run_dir
    quiet = _zoo_process("predict", out, tmp_path / "missing.wav")
    loud = _zoo_process("--verbose", "predict", out, tmp_path / "missing.wav")
    assert len(loud.stderr.splitlines()) > len(quiet.stderr.splitlines()) == 1
