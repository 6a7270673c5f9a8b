"""Streaming keyword models: one-hop LiteRT step parity for every cell, listening, long streams, scoring."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils

from zoo.audio.augment import batch_augmenter
from zoo.audio.decode import read_wav, write_wav
from zoo.core import litert
from zoo.families.kws.export import export_tflite
from zoo.families.kws.listen import Detector, DetectorSettings, events_at, hop_probabilities, score_events
from zoo.families.kws.longstream import make_stream, spoken_part
from zoo.families.kws.model import build
from zoo.families.kws.recipes import recipes
from zoo.families.kws.stream import LiteStep, StepModel, run_step, stream_clip
from zoo.families.kws.stream_export import export_stream_tflite, stream_meta
from zoo.families.registry import FAMILIES

TINY = ["--set", "model.units=4", "--set", "train.epochs=2", "--set", "train.batch_size=16",
        "--set", "data.words=('zero', 'one', 'two')"]


def _causal(name: str, **model) -> tuple:
    recipe = next(r for r in recipes() if r.name == name)
    recipe = dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, units=4, **model))
    return recipe, build(recipe, labels=["_silence_", "yes", "no"])


def _op_names(flatbuffer: bytes) -> set[str]:
    model = flatbuffer_utils.read_model_from_bytearray(flatbuffer)
    names = {v: k for k, v in vars(flatbuffer_utils.schema_fb.BuiltinOperator).items() if not k.startswith("_")}
    return {names[max(code.builtinCode, code.deprecatedBuiltinCode)] for code in model.operatorCodes}


@pytest.mark.parametrize("name, cell, members", [
    ("kws_ugru_s_fsdd", "rnn", 1), ("kws_ugru_s_fsdd", "gru", 1), ("kws_ulstm_s_fsdd", "lstm", 1),
    ("kws_ucrnn_s_tts", "gru", 1),
    ("kws_ucrnn_s_tts", "lstm", 2)])  # an ensemble: two members' buffers and states, merged
@pytest.mark.parametrize("quantize, tolerance", [("none", 1e-4), ("dynamic", 0.05), ("int8", 0.5)])
def test_litert_step_hop_by_hop_equals_the_whole_clip(name, cell, members, quantize, tolerance, tmp_path):
    recipe, model = _causal(name, cell=cell, conv_filters=4 if "crnn" in name else 0, members=members)
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in model.get_weights()])
    rate = recipe.data.sample_rate
    calibration = (0.3 * np.sin(np.arange(rate) * 0.05) * rng.uniform(0, 1, (4, rate))).astype(np.float32)
    data = export_stream_tflite(model, quantize, calibration)
    ops = _op_names(data)
    assert "WHILE" not in ops and "CUSTOM" not in ops and "FULLY_CONNECTED" in ops
    (tmp_path / "s.tflite").write_bytes(data)
    step = LiteStep(tmp_path / "s.tflite", stream_meta(model, recipe, ["_silence_", "yes", "no"]))
    clip = (0.3 * np.sin(np.arange(rate) * 0.05) * rng.uniform(0, 1, rate)).astype(np.float32)
    streamed = stream_clip(step, clip)
    whole = np.asarray(model.predict_on_batch(clip[None]))[0]
    assert len(streamed) == (rate - step.prime) // step.hop
    assert np.max(np.abs(streamed[-1] - whole)) < tolerance
    if quantize == "none":  # every hop, not only the last, matches the TensorFlow step
        assert np.max(np.abs(streamed - stream_clip(StepModel(model), clip))) < 1e-4


def test_int8_lstm_step_keeps_a_cell_state_beyond_one(tmp_path):
    """A trained LSTM's cell state leaves [-1, 1]; the int8 step must not clip it to h's range."""
    recipe, model = _causal("kws_ulstm_s_fsdd", cell="lstm", layers=1)
    lstm = model.get_layer("lstm1")
    bias = np.asarray(lstm.cell.bias).copy()
    bias[:2 * 4] += 4.0  # input and forget gates open: c adds up g frame after frame
    bias[2 * 4:3 * 4] += 1.0
    lstm.cell.bias.assign(bias)
    rate = recipe.data.sample_rate
    rng = np.random.default_rng(3)
    calibration = (0.3 * rng.uniform(-1, 1, (4, rate))).astype(np.float32)
    (tmp_path / "s.tflite").write_bytes(export_stream_tflite(model, "int8", calibration))
    step = LiteStep(tmp_path / "s.tflite", stream_meta(model, recipe, ["_silence_", "yes", "no"]))
    assert step.state_shapes["lstm1_state"] == step.state_shapes["lstm1_cell"] == (1, 4)
    clip = calibration[0]
    state = step.zero_state()
    state["audio_buffer"] = clip[None, :step.prime]
    for k in range((len(clip) - step.prime) // step.hop):
        logits, state = step(clip[None, step.prime + k * step.hop:step.prime + (k + 1) * step.hop], state)
    assert np.abs(state["lstm1_cell"]).max() > 5.0
    assert np.max(np.abs(logits[0] - np.asarray(model.predict_on_batch(clip[None]))[0])) < 0.5


class _Recorder:
    """A real step function that remembers the state it was given at each call."""

    def __init__(self, step):
        self.step, self.hop, self.prime, self.running = step, step.hop, step.prime, step.running
        self.states = []

    def zero_state(self):
        return self.step.zero_state()

    def __call__(self, chunk, state):
        self.states.append({k: np.array(v) for k, v in state.items()})
        return run_step(self.step, chunk, state)


def test_listener_windows_restart_the_model_but_not_the_signal(tmp_path):
    """At each window's reset the recurrent state is zeros, while the audio buffer runs on: every
    call's audio buffer holds the real samples just before its hop."""
    recipe, model = _causal("kws_ugru_s_fsdd")
    step = _Recorder(StepModel(model))
    assert step.running == ["audio_buffer"]
    rate, window_hops = recipe.data.sample_rate, 6
    write_wav(tmp_path / "a.wav", np.random.default_rng(0).uniform(-0.5, 0.5, rate // 4), rate)
    list(hop_probabilities(step, tmp_path / "a.wav", rate, windows=2, window_hops=window_hops))
    heard = np.concatenate([np.zeros(window_hops * step.hop // 2, np.float32), read_wav(tmp_path / "a.wav", rate),
                            np.zeros(window_hops * step.hop, np.float32)])  # the listener's lead and flush
    offsets = (0, window_hops // 2)  # window 1 starts half a window after window 0; per hop, 0 runs first
    calls = [(k, w) for k in range(len(heard) // step.hop) for w in (0, 1) if k >= offsets[w]]
    assert len(calls) == len(step.states)
    for (k, w), state in zip(calls, step.states):
        want = heard[max(0, k * step.hop - step.prime):k * step.hop]
        np.testing.assert_allclose(state["audio_buffer"][0, step.prime - len(want):], want, atol=1e-6)
        age = k - offsets[w]
        if age >= window_hops and age % window_hops == 0:  # a restart: the model afresh, the signal's state not
            assert not np.any(state["gru1_state"])
        elif age % window_hops:
            assert np.any(state["gru1_state"])


@pytest.mark.parametrize("members", [1, 2])
def test_whole_clip_int8_export_of_a_causal_crnn(members, tmp_path):
    """The rebuilt int8 graph knows batch normalisation, left padding and an ensemble's members too."""
    recipe, model = _causal("kws_ucrnn_s_tts", conv_filters=4, members=members)
    rng = np.random.default_rng(2)
    clips = (0.3 * rng.uniform(-1, 1, (6, recipe.data.sample_rate))).astype(np.float32)
    (tmp_path / "m.tflite").write_bytes(export_tflite(model, recipe, "int8", (clips, None, clips)))
    got = litert.single_runner(tmp_path / "m.tflite")(clips)
    assert np.max(np.abs(got - np.asarray(model.predict_on_batch(clips)))) < 0.5


def test_step_model_state_tensors_are_named_and_shaped():
    recipe, model = _causal("kws_ucrnn_s_tts", conv_filters=4, layers=2)
    step = StepModel(model)
    assert step.hop == 2 * 160 and step.prime == 512 - 160
    assert step.state_shapes == {"audio_buffer": (1, 352), "conv1_buffer": (1, 4, 40), "conv2_buffer": (1, 3, 4),
                                 "gru1_state": (1, 4), "gru2_state": (1, 4)}
    ensemble = StepModel(_causal("kws_ucrnn_s_tts", conv_filters=4, cell="lstm", layers=1, members=2)[1])
    assert ensemble.hop == step.hop and list(ensemble.state_shapes) == [
        "audio_buffer", "m1_conv1_buffer", "m1_conv2_buffer", "m1_lstm1_state", "m1_lstm1_cell",
        "m2_conv1_buffer", "m2_conv2_buffer", "m2_lstm1_state", "m2_lstm1_cell"]


def test_a_bidirectional_model_refuses_to_step():
    recipe = next(r for r in recipes() if r.name == "kws_gru_s_fsdd")
    recipe = dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, units=4, layers=1))
    with pytest.raises(Exception, match="cannot stream"):
        StepModel(build(recipe, labels=["a", "b"]))


def test_detector_smooths_suppresses_and_never_reports_silence():
    labels = ["_silence_", "yes", "no"]
    det = Detector(labels, hop_seconds=0.1, window_seconds=0.3, threshold=0.6, suppress_seconds=1.0)
    stream = [[0.0, 1.0, 0.0]] * 30 + [[1.0, 0.0, 0.0]] * 10 + [[0.0, 0.0, 1.0]] * 5
    events = [e for t, p in enumerate(stream) if (e := det.update(np.array(p), round(t * 0.1, 1)))]
    # "yes" held for 3 s: reported at 0.2 s, then again once each suppression time has passed.
    assert [(e["time"], e["keyword"]) for e in events] == [(0.2, "yes"), (1.3, "yes"), (2.4, "yes"), (4.1, "no")]
    assert events_at(labels, [1, 1, 0], [0.1, 0.2, 0.3], [0.9, 0.9, 0.9], 0.95, DetectorSettings()) == []


def test_scoring_counts_wrong_keywords_and_repeats_as_false_alarms():
    truth = [{"start": 1.0, "end": 1.5, "keyword": "yes"}, {"start": 10.0, "end": 10.4, "keyword": "no"}]
    found = [{"time": 1.6, "keyword": "yes"}, {"time": 2.0, "keyword": "yes"}, {"time": 10.2, "keyword": "yes"},
             {"time": 30.0, "keyword": "no"}]
    assert score_events(found, truth, seconds=1800) == {
        "events": 2, "detections": 4, "hits": 1, "recall": 0.5, "false_alarms": 3, "false_alarms_per_hour": 6.0,
        "wrong": 1, "repeats": 1, "in_noise": 1, "noise_false_alarms_per_hour": 2.0}


def test_scoring_matches_within_the_event_and_tolerance_whatever_the_truths_order():
    truth = [{"start": 20.0, "end": 20.3, "keyword": "no"}, {"start": 5.0, "end": 8.0, "keyword": "yes"},
             {"start": 7.5, "end": 7.9, "keyword": "yes"}]
    found = [{"time": 8.5, "keyword": "yes"},  # then the short "yes" (7.5-7.9), within its tolerance
             {"time": 7.7, "keyword": "yes"},  # both "yes" events cover 7.7: the first listed (5-8) takes it
             {"time": 19.9, "keyword": "no"},  # before its start
             {"time": 21.31, "keyword": "no"}]  # past end + tolerance
    result = score_events(found, truth, seconds=3600)
    assert (result["hits"], result["false_alarms"], result["in_noise"]) == (2, 2, 2)


@pytest.mark.parametrize("snr_db, scaled", [(10, False), (30, True)])
def test_long_stream_places_keywords_at_the_snr_and_lists_them(snr_db, scaled):
    rng = np.random.default_rng(1)
    word = np.zeros(8000, np.float32)
    word[3000:6000] = rng.normal(0, 0.3, 3000)
    audio, truth = make_stream([("yes", spoken_part(word, 8000), "y.wav")], rng.normal(0, 1, (3, 16000)).astype(
        np.float32), 8000, seconds=60, snr_db=snr_db, seed=3)
    # at 30 dB the words would pass full scale over the fixed noise level: scaled down whole, not clipped
    assert (truth["scale"] < 1.0) == scaled and np.max(np.abs(audio)) <= 0.99
    assert len(audio) == 480000 and len(truth["events"]) >= 6 and not truth["distractors"]
    for a, b in zip(truth["events"], truth["events"][1:]):
        assert b["start"] - a["end"] >= 2.0
    e = truth["events"][0]
    inside = audio[int(e["start"] * 8000):int(e["end"] * 8000)]
    noise = audio[int((e["end"] + 0.5) * 8000):int((e["end"] + 1.5) * 8000)]
    snr = 10 * np.log10(np.mean(inside ** 2) / np.mean(noise ** 2) - 1)
    assert abs(snr - snr_db) < 1.0


@pytest.fixture(scope="module")
def causal_run(zoo, digit_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ugru"
    data_root = tmp_path_factory.mktemp("data")
    zoo("train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}", "--out", out, "--data-root", data_root,
        *TINY)
    return out, data_root


def test_streaming_export_listen_and_stream_eval_through_the_cli(zoo, causal_run, digit_folder, tmp_path):
    out, data_root = causal_run
    report = json.loads(zoo("export", out, "--streaming", "--data-root", data_root).stdout)
    assert report["streaming"] and report["max_logit_diff"] < 1e-4 and report["hop_ms"] == 10.0
    assert report["hop_latency_us"] > 0 and report["file"].endswith("stream_float.tflite")
    sidecar = json.loads((out / "exports" / "stream_float.json").read_text())
    assert sidecar["streaming"] and sidecar["hop"] == 80 and "gru1_state" in sidecar["state_shapes"]
    saved = json.loads(zoo("export", out, "--streaming", "--format", "savedmodel", "--data-root", data_root).stdout)
    assert saved["max_logit_diff"] < 1e-4

    stream = tmp_path / "long"
    subprocess.run([sys.executable, "bench/make_stream.py", str(out), "--split", "test", "--minutes", "0.5",
                    "--snr", "20", "--out", str(stream), "--data-root", str(data_root)], check=True,
                   capture_output=True)
    truth = json.loads(stream.with_suffix(".json").read_text())
    assert truth["events"] and {e["keyword"] for e in truth["events"]} <= {"zero", "one", "two"}
    for model in (out, out / "exports" / "stream_float.tflite"):
        result = zoo("listen", model, stream.with_suffix(".wav"), "--threshold", "0.3", "--json", "--windows", "4")
        events = [json.loads(line) for line in result.stdout.splitlines()]
        assert all(e["keyword"] in ("zero", "one", "two") and 0 < e["time"] <= 31.0 for e in events)
    scored = json.loads(zoo("eval", out, "--stream", stream.with_suffix(".wav"), "--events",
                            stream.with_suffix(".json"), "--json").stdout)
    assert scored["events"] == len(truth["events"]) and 0.0 <= scored["recall"] <= 1.0
    assert (out / "stream_long.png").stat().st_size > 5000 and (out / "stream_long.json").is_file()


def test_noisy_clips_benchmark_scores_kept_and_last_weights_on_the_same_clips(causal_run):
    out, data_root = causal_run
    result = subprocess.run([sys.executable, "bench/noisy_clips.py", str(out), str(out), "--split", "test",
                             "--snr", "0", "20", "--last", "--data-root", str(data_root)],
                            check=True, capture_output=True, text=True)
    report = json.loads(result.stdout)
    rows = report["runs"]
    assert [r["weights"] for r in rows] == ["kept", "last", "kept", "last"]
    assert all(r["clips"] > 0 and 0 <= r["0 dB"] <= 100 and 0 <= r["20 dB"] <= 100 for r in rows)
    assert rows[0] == rows[2] and rows[1] == rows[3]  # the same run hears the same noisy clips
    assert report["over_runs"]["kept"]["sd"] == 0.0


def test_listener_benchmark_bounds_all_or_noise_false_alarms_and_joins_runs(causal_run, tmp_path):
    out, data_root = causal_run
    stream = tmp_path / "val"
    subprocess.run([sys.executable, "bench/make_stream.py", str(out), "--split", "validation", "--minutes", "0.5",
                    "--snr", "20", "--out", str(stream), "--data-root", str(data_root)], check=True,
                   capture_output=True)
    base = [sys.executable, "bench/listener.py", str(out), str(out), "--stream", str(stream.with_suffix(".wav")),
            "--events", str(stream.with_suffix(".json")), "--windows", "8", "--smooth", "0.75"]
    for count in ("all", "noise"):
        report = json.loads(subprocess.run([*base, "--count", count, "--groups", "0", "0,1"], check=True,
                                           capture_output=True, text=True).stdout)
        alone, joined = report["results"][0]["groups"]
        assert report["false_alarms_counted"] == count and alone["recall"] == joined["recall"]  # a run with itself
        bound = alone["false_alarms_per_hour" if count == "all" else "noise_false_alarms_per_hour"]
        assert bound <= 2.0 or alone["threshold"] == 0.99
        assert alone["noise_false_alarms_per_hour"] <= alone["false_alarms_per_hour"]
    assert (out / "listener_val.npz").is_file()


def test_listen_refuses_what_cannot_stream(zoo, causal_run, tmp_path):
    out, _ = causal_run
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    result = zoo("listen", out, tmp_path / "bad.wav", ok=False)
    assert result.exit_code == 1 and "bad.wav" in result.stderr and "Traceback" not in result.output
    float_file = json.loads(zoo("export", out).stdout)["file"]
    result = zoo("listen", float_file, tmp_path / "bad.wav", ok=False)
    assert result.exit_code == 1 and "not a streaming model" in result.stderr
    result = zoo("eval", out, "--stream", tmp_path / "bad.wav", ok=False)
    assert result.exit_code == 1 and "--stream and --events go together" in result.stderr


def test_deterministic_training_with_weight_averaging_repeats_itself(digit_folder, tmp_path):
    """Op determinism is process-wide, so each run is its own process."""
    weights = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        subprocess.run([sys.executable, "-m", "zoo.cli", "train", "kws_ugru_s_fsdd", "--data", f"fsdd:{digit_folder}",
                        "--out", str(out), "--data-root", str(tmp_path / "data"), *TINY[:2], *TINY[4:],
                        "--set", "train.epochs=2", "--set", "train.deterministic=True", "--set", "train.ema=0.9"],
                       check=True, capture_output=True)
        weights.append(keras.saving.load_model(out / "model.keras", safe_mode=True, compile=False,
                                               custom_objects=FAMILIES["kws"].custom_objects()).get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_cut_words_run_past_the_clip_end_and_become_silence():
    x = np.zeros((3, 8000), np.float32)
    x[:, 3000:5000] = 0.5
    augment = batch_augmenter(np.zeros((1, 20000), np.float32), 0, 0.0, (10, 10), (0, 0), cut=1.0, cut_label=0,
                              cut_beyond=(800, 1600))
    audio, labels = augment(tf.constant(x), tf.one_hot([1, 2, 0], 3))
    audio = audio.numpy()
    assert labels.numpy().argmax(1).tolist() == [0, 0, 0]
    for row in audio[:2]:  # the word now starts later and is cut by the clip's end
        assert 6800 <= np.flatnonzero(row)[0] <= 7600 and row[-1] == 0.5
    assert np.array_equal(audio[2], x[2])  # already silence: untouched


def test_placed_words_land_anywhere_whole_and_keep_their_label():
    x = np.zeros((200, 8000), np.float32)
    x[:, 3000:5000] = np.linspace(0.1, 0.5, 2000)
    x[-1] = 0.0  # a silence clip: never moved
    labels = tf.one_hot([1] * 199 + [0], 3)
    augment = batch_augmenter(np.zeros((1, 20000), np.float32), 0, 0.0, (10, 10), (0, 0), cut_label=0, place=1.0)
    audio, out = augment(tf.constant(x), labels)
    audio = audio.numpy()
    assert np.array_equal(out.numpy(), labels.numpy())
    starts = np.array([np.flatnonzero(row)[0] for row in audio[:-1]])
    for row, start in zip(audio[:-1], starts):  # the whole word, unchanged, somewhere in the clip
        assert np.array_equal(row[start:start + 2000], x[0, 3000:5000]) and np.count_nonzero(row) == 2000
    assert starts.min() < 600 and starts.max() > 5400  # from near the start to near the end
    assert not audio[-1].any()


def test_partial_words_keep_a_share_of_their_sound_and_label():
    x = np.zeros((400, 8000), np.float32)
    x[:, 3000:5000] = 0.5
    x[-1] = 0.0  # a silence clip: untouched
    labels = tf.one_hot([1] * 399 + [0], 3)
    augment = batch_augmenter(np.zeros((1, 20000), np.float32), 0, 0.0, (10, 10), (0, 0), cut_label=0, partial=1.0)
    audio, out = augment(tf.constant(x), labels)
    audio, out = audio.numpy(), out.numpy()
    kept = np.count_nonzero(audio[:-1], axis=1) / 2000
    # the label is the share of the word still inside the clip, the rest silence
    np.testing.assert_allclose(out[:-1, 1], kept, atol=1e-3)
    np.testing.assert_allclose(out[:-1, 0], 1 - kept, atol=1e-3)
    heads = audio[:-1, 0] == 0.5  # the rest ran past the clip's start ...
    tails = audio[:-1, -1] == 0.5  # ... or past its end
    assert np.all(heads | tails | (kept == 0)) and 150 < heads.sum() < 250
    assert kept.min() < 0.1 and kept.max() > 0.9
    assert not audio[-1].any() and np.array_equal(out[-1], [1, 0, 0])
