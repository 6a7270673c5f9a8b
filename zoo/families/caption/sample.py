"""A small captioning data set on disk, for tests and the contract: frames folders, videos and features.

    ROOT/clips/ID/0000.png ...   frame images (half the clips)
    ROOT/clips/ID.mp4            MPEG-4 videos (the other half)
    ROOT/feat/ID.npy             features, frames x `feature_dim`
    ROOT/training_label.json     MLDS captions; one clip is left uncaptioned

Example:
    >>> import tempfile
    >>> root = write_sample(Path(tempfile.mkdtemp()), clips=2)
    >>> sorted(p.name for p in (root / "clips").iterdir())
    ['clip0', 'clip1.mp4', 'clip2']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from zoo.video.frames import write_video
from zoo.video.shapes import generate


def write_sample(root: Path, clips: int = 6, frames: int = 8, size: int = 32, feature_dim: int = 6,
                 seed: int = 0) -> Path:
    """Writes `clips` captioned shapes clips plus one uncaptioned one into `root`; returns `root`."""
    root = Path(root)
    (root / "clips").mkdir(parents=True, exist_ok=True)
    (root / "feat").mkdir(exist_ok=True)
    drawn = generate(clips + 1, "train", frames=frames, size=size, seed=seed)
    rng = np.random.default_rng(seed)
    labels = []
    for i, video in enumerate(drawn.video):
        clip_id = f"clip{i}"
        if i % 2:
            write_video(root / "clips" / f"{clip_id}.mp4", video)
        else:
            (root / "clips" / clip_id).mkdir(exist_ok=True)
            for f, frame in enumerate(video):
                Image.fromarray(frame).save(root / "clips" / clip_id / f"{f:04d}.png")
        np.save(root / "feat" / f"{clip_id}.npy", rng.normal(size=(10, feature_dim)).astype(np.float32))
        if i < clips:
            labels.append({"id": clip_id, "caption": drawn.captions[i]})
    (root / "training_label.json").write_text(json.dumps(labels), encoding="utf-8")
    return root
