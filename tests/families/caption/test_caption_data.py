"""Caption data: splits that hold out attribute pairs, the folder layouts, clips of any size, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zoo.core.errors import ZooError
from zoo.core.recipe import apply_overrides
from zoo.families.caption.captioner import Captioner
from zoo.families.caption.data import bag_of_words, datasets, encode_captions, load_split
from zoo.families.caption.export import export_meta
from zoo.families.caption.recipes import recipes
from zoo.families.caption.sample import write_sample
from zoo.families.registry import FAMILIES, resolve
from zoo.text.words import WordVocabulary
from zoo.video.frames import write_video
from zoo.video.shapes import HELD_OUT

SMALL = ["data.train_clips=60", "data.validation_clips=10", "data.test_clips=10", "data.frames=8",
         "data.size=32", "model.frames=4", "model.size=16", "train.batch_size=8"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("clips"))


def test_held_out_pairs_never_reach_training_and_fill_validation_and_test():
    recipe = apply_overrides(recipes()[0], SMALL)
    train, _ = load_split(recipe, "train")
    pairs = {(o.colour, o.shape) for objs in train.objects for o in objs}
    assert not pairs & HELD_OUT
    for split in ("validation", "test"):
        held, _ = load_split(recipe, split)
        assert all(any((o.colour, o.shape) in HELD_OUT for o in objs) for objs in held.objects)
    assert train.clips.shape == (60, 4, 16, 16, 3) and train.clips.dtype == np.uint8


def test_training_batches_are_teacher_forced_and_padded():
    recipe = apply_overrides(recipes()[0], [*SMALL, "model.concepts=0.0"])
    splits = datasets(recipe)
    (clip, words_in), words_out = next(iter(splits.train))
    assert clip.shape == (8, 4, 16, 16, 3) and words_in.shape == words_out.shape == (8, 23)
    np.testing.assert_array_equal(words_in.numpy()[:, 1:], words_out.numpy()[:, :-1])  # shifted by one
    assert (words_in.numpy()[:, 0] == 1).all()  # <bos>
    assert splits.info["clips"] == {"train": 60, "validation": 10, "test": 10}


def test_concept_targets_are_each_clips_bag_of_words():
    recipe = apply_overrides(recipes()[0], [*SMALL, "model.concepts=1.0"])
    splits = datasets(recipe)
    (clip, words_in), targets = next(iter(splits.train))
    bags = targets["concepts"].numpy()
    assert bags.shape == (8, len(splits.meta)) and (bags[:, :4] == 0).all()
    for row, words in zip(bags, targets["words"].numpy()):
        assert all(row[w] == 1 for w in words if w > 3)  # every word of the caption read is in the bag


def test_encode_captions_repeats_a_clips_captions_to_fill_its_slots():
    vocab = WordVocabulary(["a", "b"])
    out = encode_captions(vocab, [["a"], ["a b", "b"]], max_words=4)
    assert out.shape == (2, 2, 4)
    assert out[0, 0].tolist() == out[0, 1].tolist() == [1, 4, 2, 0]
    assert out[1, 0].tolist() == [1, 4, 5, 2]
    assert bag_of_words(out, len(vocab)).tolist() == [[0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 1, 1]]


def test_frames_folders_and_videos_load_and_split(sample):
    recipe = resolve("caption_s2vt_lstm_shapes", f"frames:{sample}", SMALL)
    every, facts = load_split(recipe, None)
    assert len(every.ids) == 6 and every.clips.shape[1:] == (4, 16, 16, 3)
    assert facts["uncaptioned"] == ["clip6"]
    sizes = [len(load_split(recipe, s)[0].ids) for s in ("train", "validation", "test")]
    assert sizes == [4, 1, 1]


def test_features_layout_with_a_test_id_list(sample, tmp_path):
    recipe = resolve("caption_meanpool_lstm_msvd", f"features:{sample}", ["model.feature_dim=6", "model.frames=5"])
    test, _ = load_split(recipe, "test")
    assert test.clips.shape[1:] == (5, 6)
    (sample / "test_id.txt").write_text("clip0\nclip1\n")
    try:
        assert load_split(recipe, "test")[0].ids == ["clip0", "clip1"]
    finally:
        (sample / "test_id.txt").unlink()


def test_data_kind_and_encoder_must_agree(sample):
    with pytest.raises(ZooError, match="--data features needs model.encoder=features"):
        resolve("caption_s2vt_lstm_shapes", f"features:{sample}")
    with pytest.raises(ZooError, match="needs a pixel encoder"):
        resolve("caption_meanpool_lstm_msvd", f"frames:{sample}")


@pytest.mark.parametrize("overrides, message", [
    (["model.conv_filters=()"], r"model.conv_filters=\(\): the slots encoder needs one or more convolutions"),
    (["model.encoder=conv", "model.conv_filters=(4, 0)"], r"the conv encoder needs .* each of 1 or more filters"),
    (["model.size=4"], "model.size=4: 3 convolutions, each halving the frame, need frames of at least 8 pixels"),
])
def test_an_encoder_that_cannot_be_built_is_one_line_before_any_clip(overrides, message):
    recipe = apply_overrides(recipes()[0], overrides)
    with pytest.raises(ZooError, match=message):
        FAMILIES["caption"].check_recipe(recipe)
    FAMILIES["caption"].check_recipe(apply_overrides(recipes()[0], ["model.encoder=features", "model.conv_filters=()"]))


def test_clips_of_any_size_and_length_are_fitted(tmp_path):
    recipe = apply_overrides(recipes()[0], ["model.frames=8", "model.size=64"])
    reader = Captioner(None, None, WordVocabulary([]), export_meta(recipe, WordVocabulary([])))
    for frames, height, width in ((8, 48, 80), (32, 120, 90), (20, 64, 64)):
        path = tmp_path / f"c{frames}.mp4"
        write_video(path, np.random.default_rng(0).integers(0, 255, (frames, height, width, 3), dtype=np.uint8))
        assert reader.read(path).shape == (8, 64, 64, 3)


def _one_line(excinfo, *words):
    message = str(excinfo.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_bad_inputs_give_one_clear_line(sample, tmp_path):
    vocab = WordVocabulary([])
    features = Captioner(None, None, vocab, export_meta(resolve("caption_meanpool_lstm_msvd"), vocab))
    pixels = Captioner(None, None, vocab, export_meta(recipes()[0], vocab))
    np.save(tmp_path / "wrong.npy", np.zeros((80, 500), np.float32))
    with pytest.raises(ZooError) as e:
        features.read(tmp_path / "wrong.npy")
    _one_line(e, "wrong.npy", "500 features", "4096")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ZooError) as e:
        pixels.read(tmp_path / "empty")
    _one_line(e, "empty", "no frame images")
    (tmp_path / "bad.mp4").write_bytes(b"\x00not a video" * 50)
    with pytest.raises(ZooError) as e:
        pixels.read(tmp_path / "bad.mp4")
    _one_line(e, "bad.mp4", "not a decodable video")
    bad_json = tmp_path / "captions"
    (bad_json / "clips").mkdir(parents=True)
    (bad_json / "training_label.json").write_text(json.dumps([{"id": "x"}]))
    with pytest.raises(ZooError) as e:
        load_split(resolve("caption_s2vt_lstm_shapes", f"frames:{bad_json}"), "train")
    _one_line(e, "training_label.json", "entry 0", "caption")


def test_an_unreadable_clip_inside_a_set_is_skipped_and_counted(sample, tmp_path):
    import shutil

    root = tmp_path / "set"
    shutil.copytree(sample, root)
    (root / "clips" / "clip1.mp4").write_bytes(b"garbage")
    recipe = resolve("caption_s2vt_lstm_shapes", f"frames:{root}", SMALL)
    every, _ = load_split(recipe, None)
    assert "clip1" not in every.ids and len(every.skipped) == 1 and "clip1.mp4" in every.skipped[0]


def test_mobilenet_without_local_weights_falls_back_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no weights there, and no network
    recipe = resolve("caption_s2vt_lstm_shapes", None, ["model.encoder=mobilenet_v3_small"])
    assert recipe.model.encoder == "conv"
    note = capsys.readouterr().err.strip().splitlines()
    assert len(note) == 1 and "cannot be downloaded" in note[0] and "conv" in note[0]
