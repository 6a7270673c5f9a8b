"""The MLDS features layout: loads, skips and counts bad files, names bad captions entries."""

import json

import numpy as np
import pytest

from zoo.core.errors import ZooError
from zoo.video.features import load_feature_set, read_captions, read_clip, read_ids


def _layout(root, dims=((10, 6), (12, 6), (9, 6))):
    (root / "feat").mkdir()
    for k, shape in enumerate(dims):
        np.save(root / "feat" / f"vid{k}.avi.npy", np.random.default_rng(k).normal(size=shape).astype(np.float32))
    entries = [{"id": "vid0.avi", "caption": ["A man plays.", "someone plays"]}, {"id": "vid1.avi", "caption": ["x"]}]
    (root / "labels.json").write_text(json.dumps(entries))
    return root


def test_loads_features_and_captions_and_lists_the_uncaptioned(tmp_path):
    clips = load_feature_set(_layout(tmp_path), tmp_path / "labels.json")
    assert clips.ids == ["vid0.avi", "vid1.avi", "vid2.avi"]
    assert [f.shape for f in clips.features] == [(10, 6), (12, 6), (9, 6)]
    assert clips.captions[0] == ["A man plays.", "someone plays"] and clips.uncaptioned == ["vid2.avi"]
    (tmp_path / "test_ids.txt").write_text("vid1.avi\n\n")
    only = load_feature_set(tmp_path, tmp_path / "labels.json", ids=read_ids(tmp_path / "test_ids.txt"))
    assert only.ids == ["vid1.avi"]


def test_bad_feature_files_in_a_set_are_skipped_and_counted(tmp_path):
    _layout(tmp_path, dims=((10, 6), (12, 5), (9, 6)))
    (tmp_path / "feat" / "junk.avi.npy").write_bytes(b"not numpy")
    clips = load_feature_set(tmp_path, tmp_path / "labels.json")
    assert clips.ids == ["vid0.avi", "vid2.avi"] and len(clips.skipped) == 2
    assert any("5 features per frame, the model takes 6" in s for s in clips.skipped)
    assert any("junk.avi.npy: not a .npy file (no NumPy header)" in s for s in clips.skipped)


@pytest.mark.parametrize("content, message", [
    ("[{\"id\": \"a\"}]", "entry 0 lacks an \"id\" or a \"caption\" field"),
    ("[{\"id\": \"a\", \"caption\": \"one string\"}]", "entry 0 (a): \"caption\" must be a list of strings"),
    ("{\"id\": \"a\"}", "expected a list"),
    ("[{", "not a JSON captions file"),
])
def test_bad_captions_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "labels.json"
    path.write_text(content)
    with pytest.raises(ZooError, match="labels.json: " + message.replace("(", r"\(").replace(")", r"\)")):
        read_captions(path)


def test_single_clip_errors_name_the_file(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 3), np.float32))
    with pytest.raises(ZooError, match="x.npy: 3 features per frame, the model takes 4096"):
        read_clip(tmp_path / "x.npy", 4096)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ZooError, match="obj.npy: not a readable .npy array"):  # never unpickled
        read_clip(tmp_path / "obj.npy")
    with pytest.raises(ZooError, match="nothere.npy: no such features file"):
        read_clip(tmp_path / "nothere.npy")
    with pytest.raises(ZooError, match="features folder not found"):
        load_feature_set(tmp_path / "empty")
