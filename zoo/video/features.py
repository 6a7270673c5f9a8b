"""Precomputed frame features in the MSVD / MSR-VTT "MLDS" layout, for the captioning family.

    ROOT/feat/VIDEO_ID.npy      frames x feature_dim float32 (for example 80 x 4096 VGG16 fc7)
    ROOT/training_label.json    [{"id": VIDEO_ID, "caption": ["...", ...]}, ...]
    ROOT/testing_id.txt         optional: one VIDEO_ID a line

Arrays are read with `allow_pickle=False`. A bad file inside the set (unreadable,
wrong shape, wrong feature size) is skipped and counted; a bad captions file is
one error naming the file and the entry at fault.

Example:
    >>> import json, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "feat").mkdir()
    >>> np.save(root / "feat" / "a.avi.npy", np.zeros((8, 4), np.float32))
    >>> _ = (root / "captions.json").write_text(json.dumps([{"id": "a.avi", "caption": ["a cat sits"]}]))
    >>> clips = load_feature_set(root, root / "captions.json")
    >>> clips.ids, clips.features[0].shape, clips.captions
    (['a.avi'], (8, 4), [['a cat sits']])
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from zoo.core.arrays import read_npy
from zoo.core.errors import ZooError

FEATURE_FOLDER = "feat"


@dataclasses.dataclass
class FeatureSet:
    """Clips with features and captions.

    Attributes:
        ids: video ids, sorted.
        features: float32 [frames, dim] per clip.
        captions: the clip's captions (empty where the captions file has none).
        skipped: "path: cause" for each feature file that could not be used.
        uncaptioned: ids with features but no captions.
    """

    ids: list
    features: list
    captions: list
    skipped: list
    uncaptioned: list


def read_captions(path: Path) -> dict[str, list[str]]:
    """{video id: captions} from an MLDS captions JSON; one error line naming the entry at fault."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZooError(f"{path}: no such captions file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ZooError(f"{path}: not a JSON captions file ({str(e).splitlines()[0]})") from None
    if not isinstance(entries, list):
        raise ZooError(f"{path}: expected a list of {{\"id\": ..., \"caption\": [...]}} entries")
    captions: dict[str, list[str]] = {}
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict) or "id" not in entry or "caption" not in entry:
            raise ZooError(f"{path}: entry {k} lacks an \"id\" or a \"caption\" field")
        texts = entry["caption"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ZooError(f"{path}: entry {k} ({entry['id']}): \"caption\" must be a list of strings")
        captions.setdefault(str(entry["id"]), []).extend(t.strip() for t in texts if t.strip())
    return captions


def read_clip(path: Path, feature_dim: int | None = None) -> np.ndarray:
    """One clip's features, float32 [frames, dim]; a bad file is one error naming it and the cause."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such features file")
    array = read_npy(path)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ZooError(f"{path}: expected frames x features, got shape {array.shape}")
    if feature_dim and array.shape[1] != feature_dim:
        raise ZooError(f"{path}: {array.shape[1]} features per frame, the model takes {feature_dim}")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise ZooError(f"{path}: features must be finite numbers")
    return array.astype(np.float32)


def video_id(path: Path) -> str:
    """`feat/abc_1_5.avi.npy` -> `abc_1_5.avi`."""
    return Path(path).name.removesuffix(".npy")


def read_ids(path: Path) -> list[str]:
    """Video ids of a split list, one a line."""
    try:
        return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise ZooError(f"{path}: cannot read the id list ({e})") from None


def load_feature_set(root: Path, captions_file: Path | None = None, ids=None,
                     feature_dim: int | None = None) -> FeatureSet:
    """Features (and captions) of an MLDS folder.

    Args:
        root: the folder holding `feat/`.
        captions_file: the captions JSON (None: no captions).
        ids: only these video ids (None: every feature file).
        feature_dim: expected features per frame (None: the first file's).
    """
    folder = Path(root) / FEATURE_FOLDER
    if not folder.is_dir():
        raise ZooError(f"{folder}: features folder not found (expected ROOT/{FEATURE_FOLDER}/VIDEO_ID.npy)")
    files = sorted(folder.glob("*.npy"))
    if ids is not None:
        wanted = set(ids)
        files = [f for f in files if video_id(f) in wanted]
    if not files:
        raise ZooError(f"{folder}: no .npy feature files" + (" for the listed ids" if ids is not None else ""))
    captions = read_captions(captions_file) if captions_file else {}
    kept_ids, features, texts, skipped = [], [], [], []
    for path in files:
        try:
            array = read_clip(path, feature_dim)
        except ZooError as e:
            skipped.append(str(e))
            continue
        feature_dim = feature_dim or array.shape[1]
        kept_ids.append(video_id(path))
        features.append(array)
        texts.append(captions.get(video_id(path), []))
    if not kept_ids:
        raise ZooError(f"{folder}: none of its {len(files)} feature files could be used; first: {skipped[0]}")
    uncaptioned = [i for i, t in zip(kept_ids, texts) if not t] if captions_file else []
    return FeatureSet(kept_ids, features, texts, skipped, uncaptioned)
