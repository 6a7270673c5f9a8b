"""Caption data: clips and their captions for every source, the vocabulary, and the tf.data pipelines.

Sources (`--data KIND[:PATH]`):
    shapes              built in: `zoo.video.shapes` draws seeded clips; validation and test
                        hold colour-shape pairs never seen in training.
    features:ROOT       MLDS layout: ROOT/feat/ID.npy and ROOT/training_label.json.
    frames:ROOT         ROOT/clips/ID/ (frame images) or ROOT/clips/ID.mp4 (any video PyAV decodes),
                        and ROOT/training_label.json.

Folders split their captioned clips by `ROOT/{train,validation,test}_id.txt`
when present, else by a seeded shuffle (`validation_fraction`, `test_fraction`).
A clip that cannot be read is skipped and counted; clips with features but
no captions are listed in `data.json` (caption them with `zoo caption`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.text.words import PAD, SPECIALS, WordVocabulary
from zoo.video import features as feature_files
from zoo.video import frames as frame_files
from zoo.video import shapes

SPLITS = ("train", "validation", "test")
CLIPS_FOLDER = "clips"


@dataclasses.dataclass
class ClipSet:
    """Clips of one split, ready for the model.

    Attributes:
        ids: clip ids.
        clips: uint8 [N, F, S, S, 3] pixels or float32 [N, F, D] features, at the model's frames and size.
        captions: true captions of each clip.
        objects: for `shapes`, each clip's `ShapeObject`s (else None).
        skipped: "path: cause" for each clip that could not be read.
    """

    ids: list
    clips: np.ndarray
    captions: list
    objects: list | None = None
    skipped: list = dataclasses.field(default_factory=list)


def _fit(recipe: Recipe, clip: np.ndarray) -> np.ndarray:
    m = recipe.model
    return frame_files.fit_clip(clip, m.frames, None if m.encoder == "features" else m.size)


def _shapes(recipe: Recipe, split: str) -> ClipSet:
    d = recipe.data
    count = {"train": d.train_clips, "validation": d.validation_clips, "test": d.test_clips}[split]
    drawn = shapes.generate(count, split, frames=d.frames, size=d.size, seed=d.seed)
    clips = np.stack([_fit(recipe, v) for v in drawn.video]) if len(drawn.video) else drawn.video
    return ClipSet([f"{split}_{i:05d}" for i in range(count)], clips, drawn.captions, drawn.objects)


def _root(recipe: Recipe) -> Path:
    if not recipe.data.path:
        raise ZooError(f"--data {recipe.data.source} needs a path: {recipe.data.source}:FOLDER")
    root = Path(recipe.data.path)
    if not root.is_dir():
        raise ZooError(f"{root}: no such data folder")
    return root


def _split_ids(recipe: Recipe, root: Path, captioned: list[str]) -> dict[str, list[str]]:
    """Captioned ids of each split: from `{split}_id.txt` lists, else a seeded shuffle."""
    d = recipe.data
    listed = {s: set(feature_files.read_ids(root / f"{s}_id.txt")) for s in SPLITS if (root / f"{s}_id.txt").is_file()}
    if listed:
        rest = [i for i in captioned if not any(i in ids for ids in listed.values())]
        out = {s: [i for i in captioned if i in listed.get(s, ())] for s in SPLITS}
        out["train"] += rest if "train" not in listed else []
        return out
    order = list(np.random.default_rng(d.seed).permutation(sorted(captioned)))
    n = len(order)
    n_val = max(1, round(n * d.validation_fraction)) if n >= 3 else 0
    n_test = max(1, round(n * d.test_fraction)) if n >= 3 else 0
    return {"validation": order[:n_val], "test": order[n_val:n_val + n_test], "train": order[n_val + n_test:]}


def _captions_file(recipe: Recipe, root: Path) -> Path:
    return root / recipe.data.captions


def _folder(recipe: Recipe, splits) -> tuple[dict, dict]:
    """{split: ClipSet} of a `features` or `frames` folder for `splits` (None: every captioned clip),
    every file read once, and facts for `data.json`."""
    root = _root(recipe)
    m = recipe.model
    if recipe.data.source == "features":
        found = feature_files.load_feature_set(root, _captions_file(recipe, root), feature_dim=m.feature_dim)
        captions, arrays = dict(zip(found.ids, found.captions)), dict(zip(found.ids, found.features))
        read, available, empty = arrays.__getitem__, found.ids, np.zeros((0, m.frames, m.feature_dim), np.float32)
        facts = {"skipped": list(found.skipped), "uncaptioned": found.uncaptioned}
    else:
        folder = root / CLIPS_FOLDER
        if not folder.is_dir():
            raise ZooError(f"{folder}: clips folder not found (expected ROOT/{CLIPS_FOLDER}/ID/ frames or ID.mp4)")
        captions = feature_files.read_captions(_captions_file(recipe, root))
        paths = {p.stem if p.is_file() else p.name: p for p in sorted(folder.iterdir())
                 if p.is_dir() or p.suffix.lower() in frame_files.VIDEO_SUFFIXES}
        read, available = (lambda i: frame_files.read_clip(paths[i])), list(paths)
        empty = np.zeros((0, m.frames, m.size, m.size, 3), np.uint8)
        facts = {"skipped": [], "uncaptioned": sorted(i for i in paths if not captions.get(i))}
    captioned = [i for i in available if captions.get(i)]
    if not captioned:
        raise ZooError(f"{root}: no clip has captions in {recipe.data.captions}")
    groups = _split_ids(recipe, root, captioned) if any(s is not None for s in splits) else {None: captioned}
    out = {}
    for split in splits:
        kept, clips = [], []
        for i in groups[split]:
            try:
                clips.append(_fit(recipe, read(i)))
                kept.append(i)
            except ZooError as e:
                facts["skipped"].append(str(e))
        array = np.stack(clips).astype(empty.dtype) if clips else empty
        out[split] = ClipSet(kept, array, [captions[i] for i in kept], None, facts["skipped"])
    return out, facts


def load_splits(recipe: Recipe, splits=SPLITS) -> tuple[dict, dict]:
    """{split: ClipSet} for `splits` (a folder's files read once for all of them), and facts for `data.json`."""
    if recipe.data.source == "shapes":
        return {s: _shapes(recipe, s) for s in splits}, {}
    if recipe.data.source in ("features", "frames"):
        return _folder(recipe, splits)
    raise ZooError(f"data.source={recipe.data.source!r}: choose shapes, features or frames")


def load_split(recipe: Recipe, split: str | None) -> tuple[ClipSet, dict]:
    """One split's clips (None: every captioned clip), and facts for `data.json`."""
    if split is None and recipe.data.source == "shapes":
        parts = [_shapes(recipe, s) for s in SPLITS]
        return ClipSet(sum((p.ids for p in parts), []), np.concatenate([p.clips for p in parts]),
                       sum((p.captions for p in parts), []), sum((p.objects for p in parts), [])), {}
    clips, facts = load_splits(recipe, [split])
    return clips[split], facts


def encode_captions(vocab: WordVocabulary, captions: list, max_words: int) -> np.ndarray:
    """int32 [N, K, max_words] ids (`<bos>` ... `<eos>`, `<pad>` after), K = the most captions of a clip;
    clips with fewer repeat theirs."""
    k = max(len(c) for c in captions)
    out = np.full((len(captions), k, max_words), PAD, np.int32)
    encoded = iter(vocab.encode_many([texts[j % len(texts)] for texts in captions for j in range(k)], max_words))
    for n in range(len(captions)):
        for j in range(k):
            ids = next(encoded)
            out[n, j, :len(ids)] = ids
    return out


def bag_of_words(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """float32 [N, vocab_size]: 1 for every word any caption of the clip uses (specials excluded)."""
    bags = np.zeros((len(tokens), vocab_size), np.float32)
    rows = np.repeat(np.arange(len(tokens)), tokens[0].size if len(tokens) else 0)
    bags[rows, tokens.reshape(-1)] = 1.0
    bags[:, :len(SPECIALS)] = 0.0
    return bags


def pipeline(clips: np.ndarray, tokens: np.ndarray, batch_size: int, shuffle: bool, seed: int,
             concepts: np.ndarray | None = None):
    """((clip, words in), words out) batches; each time a clip is read, one of its captions at random.
    With `concepts` (a bag of words per clip) the targets are {"words", "concepts"}."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((clips, tokens) if concepts is None else (clips, tokens, concepts))
    if shuffle:
        ds = ds.shuffle(len(clips), seed=seed, reshuffle_each_iteration=True)

    def pick(clip, captions, bag=None):
        caption = captions[tf.random.uniform((), 0, tf.shape(captions)[0], dtype=tf.int32)] if shuffle \
            else captions[0]
        clip = tf.cast(clip, tf.float32)
        if bag is None:
            return (clip, caption[:-1]), caption[1:]
        return (clip, caption[:-1]), {"words": caption[1:], "concepts": bag}

    return ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def datasets(recipe: Recipe) -> Splits:
    """Training and validation pipelines, the validation and test clips, and the vocabulary."""
    d, t = recipe.data, recipe.train
    clips, facts = load_splits(recipe)
    train, validation, test = (clips[s] for s in SPLITS)
    if not len(train.ids):
        raise ZooError(f"{recipe.data.path or recipe.data.source}: no training clips")
    vocab = WordVocabulary.from_captions([c for texts in train.captions for c in texts], d.min_count)

    def batches(clips: ClipSet, shuffle: bool):
        tokens = encode_captions(vocab, clips.captions, d.max_words)
        bags = bag_of_words(tokens, len(vocab)) if recipe.model.concepts else None
        return pipeline(clips.clips, tokens, t.batch_size, shuffle, t.seed, bags)

    train_ds = batches(train, True)
    val_ds = batches(validation, False) if len(validation.ids) else None
    info = {"source": d.source, "path": d.path, "vocabulary": len(vocab),
            "clips": {"train": len(train.ids), "validation": len(validation.ids), "test": len(test.ids)},
            "captions": {"train": sum(len(c) for c in train.captions)},
            "skipped": facts.get("skipped", []), "uncaptioned": facts.get("uncaptioned", [])}
    return Splits(train_ds, val_ds, {"validation": validation, "test": test}, len(train.ids), vocab, info)
