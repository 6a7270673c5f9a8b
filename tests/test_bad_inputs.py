"""Bad input across every family, as one table: each case is a `zoo` command line and what must happen.

A case that must fail ends with exit status 1 and exactly one `error:` line on stderr that names the file at
fault and the cause, with no traceback (an unexpected exception fails the test, as the CLI runs in-process
with exceptions passed through), and writes nothing: the folder's files are the same before and after. A case
that must work (24-bit, float and stereo 48 kHz wavs, a BOM) exits 0. The same guarantees on a real terminal,
native TensorFlow logging included, are tested in a subprocess by the keyword family's CLI tests.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf

import zoo
from zoo.cli import command_line
from zoo.families.registry import FAMILIES, registry

# The family's recipe the table's runs are trained from (a causal keyword recipe, so `zoo listen` runs too).
RUNS = {"kws": "kws_ugru_s_fsdd", "chargen": "chargen_gru_s_pydocs", "caption": "caption_meanpool_lstm_msvd",
        "sentiment": "sentiment_gru_s_sst2", "memory": "memory_gru_s_adding"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny trained run of every family, on the family's own sample data: family name -> run directory."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for family in FAMILIES.values():
        recipe = family.tiny(registry().get(RUNS[family.name]))
        recipe = family.with_data(recipe, family.sample_data(root / f"data_{family.name}", recipe))
        _, out[family.name] = zoo.train(recipe, root / family.name, data_root=root / "data_root", verbose=0)
    return out


def test_every_family_has_a_run_in_the_table():
    assert set(RUNS) == set(FAMILIES)


@dataclass
class Ctx:
    """What the cases refer to: `d` the folder of bad files (its state is compared before and after),
    `runs` the trained runs, and `lite` the keyword run's LiteRT export."""

    d: Path
    runs: dict
    lite: Path


def _wav(path: Path, audio: np.ndarray, rate: int, subtype: str) -> Path:
    sf.write(path, audio, rate, subtype=subtype)
    return path


def _speech_like(rate: int, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * 300 * t) * np.hanning(len(t))).astype(np.float32)


def _write_inputs(d: Path) -> None:
    """Every bad (and awkward but good) input the table names, written into `d`."""
    good = _wav(d / "good.wav", _speech_like(8000), 8000, "PCM_16")
    data = good.read_bytes()
    (d / "empty.wav").write_bytes(b"")
    (d / "header_cut.wav").write_bytes(data[:30])
    (d / "truncated.wav").write_bytes(data[:2000])
    (d / "riff_avi.wav").write_bytes(b"RIFF" + (1000).to_bytes(4, "little") + b"AVI LIST" + bytes(992))
    (d / "random.wav").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    _wav(d / "nan.wav", np.full(4000, np.nan, np.float32), 8000, "FLOAT")
    _wav(d / "inf.wav", np.where(np.arange(4000) == 9, np.inf, 0.1).astype(np.float32), 8000, "FLOAT")
    _wav(d / "pcm24.wav", _speech_like(8000), 8000, "PCM_24")
    _wav(d / "float.wav", _speech_like(8000), 8000, "FLOAT")
    _wav(d / "stereo48k.wav", np.stack([_speech_like(48000)] * 2, 1), 48000, "PCM_16")
    _wav(d / "ten_minutes.wav", np.tile(_speech_like(8000, 1.0), 600), 8000, "PCM_16")
    (d / "folder.wav").mkdir()
    (d / "no_wavs").mkdir()
    (d / "no_wavs" / "readme.txt").write_text("no audio here\n")
    (d / "unknown_label" / "banana").mkdir(parents=True)
    shutil.copy(good, d / "unknown_label" / "banana" / "b1.wav")
    # Text.
    (d / "latin1.txt").write_bytes("un café crème\n".encode("latin-1") * 20)
    (d / "empty.txt").write_bytes(b"")
    (d / "bom.txt").write_bytes("\ufeff".encode() + b"def f(x):\n    return x + 1\n" * 40)
    (d / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (d / "reviews_latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    (d / "bom.tsv").write_bytes("\ufeff".encode() + b"A great film.\t1\nDull.\t0\n")
    (d / "nolabel.tsv").write_text("A great film.\nDull.\n", encoding="utf-8")
    (d / "cols.csv").write_text("review,stars\ngreat,5\n", encoding="utf-8")
    # Sequences and features.
    np.save(d / "seq_2d_wrong.npy", np.zeros((3, 7, 5), np.float32))
    np.save(d / "seq_nan.npy", np.full((1, 10, 2), np.nan, np.float32))
    (d / "seq_words.csv").write_text("0.1,1\nzero,0\n", encoding="utf-8")
    (d / "not_npy.npy").write_bytes(b"definitely not numpy" * 10)
    np.save(d / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(d / "feat_wrong_dim.npy", np.zeros((8, 3), np.float32))
    np.save(d / "feat_inf.npy", np.full((8, 3), np.inf, np.float32))
    (d / "frames").mkdir()
    np.save(d / "feat_1d.npy", np.zeros(8, np.float32))
    (d / "captions" / "feat").mkdir(parents=True)
    np.save(d / "captions" / "feat" / "v1.npy", np.zeros((8, 16), np.float32))
    (d / "captions" / "training_label.json").write_text(json.dumps([{"id": "v1", "captions": ["a cat"]}]))
    # Models.
    (d / "not_a_run").mkdir()
    (d / "not_a_run" / "notes.txt").write_text("x")


@pytest.fixture(scope="module")
def ctx(runs, tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    _write_inputs(d)
    lite_dir = tmp_path_factory.mktemp("lite")
    zoo.export(runs["kws"], "tflite", out=lite_dir / "kws.tflite")
    for name in ("no_sidecar", "edited_sidecar", "broken_sidecar"):
        shutil.copy(lite_dir / "kws.tflite", d / f"{name}.tflite")
    meta = json.loads((lite_dir / "kws.json").read_text())
    (d / "edited_sidecar.json").write_text(json.dumps({**meta, "labels": meta["labels"][:1]}))
    (d / "broken_sidecar.json").write_text('{"family": "kws", "labels": [')
    lambda_run = d / "lambda_run"
    shutil.copytree(runs["kws"], lambda_run)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(lambda_run / "model.keras")
    foreign = d / "foreign_family_run"
    shutil.copytree(runs["sentiment"], foreign)
    recipe = json.loads((foreign / "recipe.json").read_text())
    (foreign / "recipe.json").write_text(json.dumps({**recipe, "family": "weather"}))
    return Ctx(d, runs, lite_dir / "kws.tflite")


def _tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.stat().st_size if p.is_file() else -1 for p in sorted(d.rglob("*"))}


OK = None  # the case must work
# (id, argv from the context, the text the one error line must hold with the file's name, or OK)
CASES = [
    # Audio, through the keyword family.
    ("wav_empty", lambda c: ["predict", c.runs["kws"], c.d / "empty.wav"], "empty.wav: empty file"),
    ("wav_header_cut", lambda c: ["predict", c.runs["kws"], c.d / "header_cut.wav"],
     "header_cut.wav: not a readable audio file"),
    ("wav_truncated", lambda c: ["predict", c.runs["kws"], c.d / "truncated.wav"], "truncated.wav: truncated wav"),
    ("wav_riff_not_wave", lambda c: ["predict", c.runs["kws"], c.d / "riff_avi.wav"],
     "riff_avi.wav: not a readable audio file"),
    ("wav_random_bytes", lambda c: ["predict", c.runs["kws"], c.d / "random.wav"],
     "random.wav: not a readable audio file"),
    ("wav_nan", lambda c: ["predict", c.runs["kws"], c.d / "nan.wav"], "nan.wav: audio contains NaN or infinite"),
    ("wav_inf", lambda c: ["predict", c.runs["kws"], c.d / "inf.wav"], "inf.wav: audio contains NaN or infinite"),
    ("wav_missing", lambda c: ["predict", c.runs["kws"], c.d / "missing.wav"], "missing.wav: no such file"),
    ("wav_is_a_folder", lambda c: ["predict", c.runs["kws"], c.d / "folder.wav"], "folder.wav: folder has no .wav"),
    ("wav_24_bit", lambda c: ["predict", c.runs["kws"], c.d / "pcm24.wav"], OK),
    ("wav_float", lambda c: ["predict", c.runs["kws"], c.d / "float.wav"], OK),
    ("wav_stereo_48k", lambda c: ["predict", c.runs["kws"], c.d / "stereo48k.wav"], OK),
    ("wav_ten_minutes_to_a_clip_model", lambda c: ["predict", c.runs["kws"], c.d / "ten_minutes.wav"], OK),
    ("wav_litert", lambda c: ["predict", c.lite, c.d / "stereo48k.wav"], OK),
    ("listen_truncated", lambda c: ["listen", c.runs["kws"], c.d / "truncated.wav"],
     "truncated.wav: truncated wav"),
    ("data_folder_without_wavs", lambda c: ["train", "kws_gru_s_fsdd", "--data", f"folder:{c.d / 'no_wavs'}",
                                            "--out", c.d / "new_run"], "no_wavs"),
    ("data_folder_missing", lambda c: ["train", "kws_gru_s_fsdd", "--data", f"folder:{c.d / 'nowhere'}",
                                       "--out", c.d / "new_run"], "nowhere"),
    ("eval_unknown_label_folder", lambda c: ["eval", c.runs["kws"], "--data", f"folder:{c.d / 'unknown_label'}",
                                             "--split", "all"], "banana"),
    # Text generation.
    ("corpus_not_utf8", lambda c: ["train", "chargen_gru_s_pydocs", "--data", f"text:{c.d / 'latin1.txt'}",
                                   "--out", c.d / "new_run"], "latin1.txt: not valid utf-8"),
    ("corpus_empty", lambda c: ["train", "chargen_gru_s_pydocs", "--data", f"text:{c.d / 'empty.txt'}",
                                "--out", c.d / "new_run"], "empty.txt: empty file"),
    ("corpus_binary", lambda c: ["train", "chargen_gru_s_pydocs", "--data", f"text:{c.d / 'binary.txt'}",
                                 "--out", c.d / "new_run"], "binary.txt: a binary file"),
    ("corpus_missing", lambda c: ["train", "chargen_gru_s_pydocs", "--data", f"text:{c.d / 'none.txt'}",
                                  "--out", c.d / "new_run"], "none.txt: no such file"),
    ("eval_corpus_with_bom", lambda c: ["eval", c.runs["chargen"], "--data", f"text:{c.d / 'bom.txt'}",
                                        "--split", "all"], OK),
    # Sentiment.
    ("texts_not_utf8", lambda c: ["predict", c.runs["sentiment"], c.d / "reviews_latin1.txt"],
     "reviews_latin1.txt:1: not utf-8"),
    ("texts_binary", lambda c: ["predict", c.runs["sentiment"], c.d / "binary.txt"], "binary.txt: a binary file"),
    ("texts_missing", lambda c: ["predict", c.runs["sentiment"], c.d / "none.txt"], "none.txt: no such text file"),
    ("tsv_without_labels", lambda c: ["eval", c.runs["sentiment"], "--data", f"tsv:{c.d / 'nolabel.tsv'}",
                                      "--split", "all"],
     "nolabel.tsv: no labelled texts"),
    ("csv_missing_columns", lambda c: ["eval", c.runs["sentiment"], "--data", f"csv:{c.d / 'cols.csv'}",
                                       "--split", "all"],
     "cols.csv: no column label, text"),
    ("tsv_with_bom", lambda c: ["eval", c.runs["sentiment"], "--data", f"tsv:{c.d / 'bom.tsv'}", "--split", "all"],
     OK),
    ("negative_adversarial_step", lambda c: ["train", "sentiment_gru_s_sst2", "--data", f"sst2:{c.d}", "--set",
                                             "model.adversarial=-0.3", "--out", c.d / "new_run"],
     "model.adversarial=-0.3: must be >= 0.0"),
    # Sequences (memory) and features (captioning).
    ("npy_wrong_dimensions", lambda c: ["predict", c.runs["memory"], c.d / "seq_2d_wrong.npy"],
     "seq_2d_wrong.npy: sequences have shape"),
    ("npy_nan", lambda c: ["predict", c.runs["memory"], c.d / "seq_nan.npy"], "seq_nan.npy: sequences hold NaN"),
    ("csv_not_numbers", lambda c: ["predict", c.runs["memory"], c.d / "seq_words.csv"],
     "seq_words.csv: not a readable sequence file"),
    ("npy_not_numpy", lambda c: ["predict", c.runs["memory"], c.d / "not_npy.npy"], "not_npy.npy: not a .npy file"),
    ("npy_pickled_objects", lambda c: ["predict", c.runs["memory"], c.d / "pickled.npy"],
     "pickled.npy: not a readable .npy array (it holds Python objects"),
    ("features_wrong_width", lambda c: ["caption", c.runs["caption"], c.d / "feat_wrong_dim.npy"],
     "feat_wrong_dim.npy: 3 features per frame, the model takes"),
    ("features_one_dimension", lambda c: ["caption", c.runs["caption"], c.d / "feat_1d.npy"],
     "feat_1d.npy: expected frames x features"),
    ("features_not_numpy", lambda c: ["caption", c.runs["caption"], c.d / "not_npy.npy"],
     "not_npy.npy: not a .npy file"),
    ("features_pickled", lambda c: ["caption", c.runs["caption"], c.d / "pickled.npy"],
     "pickled.npy: not a readable .npy array (it holds Python objects"),
    ("frames_to_a_features_model", lambda c: ["caption", c.runs["caption"], c.d / "frames"], "frames"),
    ("captions_json_missing_field", lambda c: ["train", "caption_meanpool_lstm_msvd", "--data",
                                               f"features:{c.d / 'captions'}", "--out", c.d / "new_run"],
     "training_label.json"),
    # Models.
    ("run_of_another_family", lambda c: ["listen", c.runs["sentiment"], c.d / "good.wav"], "sentiment"),
    ("generate_with_a_keyword_model", lambda c: ["generate", c.runs["kws"]], "kws"),
    ("run_of_an_unknown_family", lambda c: ["predict", c.d / "foreign_family_run", "--text", "x"], "weather"),
    ("folder_that_is_not_a_run", lambda c: ["predict", c.d / "not_a_run", c.d / "good.wav"], "not_a_run: not a"),
    ("keras_file_with_a_lambda", lambda c: ["predict", c.d / "lambda_run", c.d / "good.wav"], "lambda_run"),
    ("litert_without_sidecar", lambda c: ["predict", c.d / "no_sidecar.tflite", c.d / "good.wav"],
     "no_sidecar.tflite: missing its sidecar"),
    ("litert_sidecar_edited", lambda c: ["predict", c.d / "edited_sidecar.tflite", c.d / "good.wav"],
     "edited_sidecar"),
    ("litert_sidecar_not_json", lambda c: ["predict", c.d / "broken_sidecar.tflite", c.d / "good.wav"],
     "broken_sidecar.json: not valid JSON"),
    # Recipes, overrides, output folders.
    ("unknown_recipe", lambda c: ["train", "kws_gru_s_fsdx"], "unknown recipe 'kws_gru_s_fsdx'"),
    ("misspelt_override_key", lambda c: ["train", "kws_gru_s_fsdd", "--set", "train.epoch=3"],
     "unknown key train.epoch"),
    ("override_out_of_range", lambda c: ["train", "memory_gru_s_adding", "--set", "model.units=0"],
     "model.units=0: must be >= 1"),
    # Fields each in range that contradict each other: the family's check, before any clip is read.
    ("frame_longer_than_the_clip", lambda c: ["train", "kws_gru_s_tts", "--set", "data.clip_seconds=0.01"],
     "model.frame_ms=25.0: longer than a clip (data.clip_seconds=0.01)"),
    ("more_coefficients_than_mel_bands", lambda c: ["train", "kws_gru_s_tts", "--set", "model.num_mfcc=60"],
     "model.num_mfcc=60: at most model.num_mel_bins (40)"),
    ("mel_range_upside_down", lambda c: ["train", "kws_gru_s_tts", "--set", "model.fmin=3000.0", "--set",
                                         "model.fmax=1000.0"], "model.fmin=3000.0: must be below model.fmax"),
    ("speed_range_upside_down", lambda c: ["train", "kws_gru_s_tts", "--set", "data.speed=(1.2, 0.8)"],
     "data.speed=(1.2, 0.8): the first must not exceed the second"),
    ("override_of_the_wrong_type", lambda c: ["train", "kws_gru_s_fsdd", "--set", "train.epochs='three'"],
     "train.epochs"),
    ("unknown_data_kind", lambda c: ["train", "kws_gru_s_fsdd", "--data", f"mp3:{c.d}"], "mp3"),
    ("existing_run_directory", lambda c: ["train", "kws_gru_s_fsdd", "--out", c.d / "not_a_run"],
     "not_a_run: run directory exists"),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_naming_the_file_and_the_cause(zoo, ctx, case):
    _, argv, expected = case
    before = _tree(ctx.d)
    args = argv(ctx)
    if args[0] == "train":  # a failed training must not leave a data cache behind either
        args += ["--data-root", ctx.d / "data_root"]
    result = zoo(*args, ok=False)
    if expected is OK:
        assert result.exit_code == 0, result.output
        return
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 1 and len(errors) == 1 and "Traceback" not in result.output, result.output
    assert expected in errors[0], errors[0]
    assert _tree(ctx.d) == before


def _zoo_process(args, preexec=None):
    """The installed `zoo` command in a clean environment, as a user runs it."""
    return subprocess.run(command_line(*args), capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},  # no .pyc cut short
                          preexec_fn=preexec, timeout=300)


def _one_error_line(proc, *expected: str) -> str:
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert all(text in lines[0] for text in expected), lines[0]
    return lines[0]


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(ctx, tmp_path):
    """Simulated: the process may write no file over 16 KB (RLIMIT_FSIZE), so writing the figure fails as it
    would on a full disk, part way through."""
    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))

    proc = _zoo_process(["gates", ctx.runs["kws"], ctx.d / "good.wav", "--out", tmp_path / "gates.png"], small_files)
    _one_error_line(proc, f"{tmp_path / 'gates.png'}: cannot write (File too large)")
    assert list(tmp_path.iterdir()) == []


def _without_root_override():
    """Root writes anywhere (CAP_DAC_OVERRIDE), so as root (CI, containers) the command runs without that
    capability: dropped from the bounding set before `exec`, it is gone from the new program's."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_output_folder_is_one_line_and_nothing_is_written(ctx, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        proc = _zoo_process(["gates", ctx.runs["kws"], ctx.d / "good.wav", "--out", locked / "g.png"],
                            _without_root_override if os.getuid() == 0 else None)
        _one_error_line(proc, f"{locked / 'g.png'}: cannot write (Permission denied)")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)
