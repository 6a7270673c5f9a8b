"""Keyword data: decode (or synthesize) a data set once, assign the model's labels, build tf.data pipelines.

Every source (`tts`, `speech_commands`, `fsdd`, `folder`) becomes one
`zoo.audio.speech.AudioSet`, cached under `data_root/cache`; this module maps
its words onto the model's labels (`_unknown_`, `_silence_`) and batches it.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.audio import speech
from zoo.audio.augment import batch_augmenter
from zoo.audio.clipstore import DiskClips, NoiseCuts
from zoo.audio.speech import SILENCE, UNKNOWN
from zoo.core.errors import ZooError
from zoo.core.family import Splits
from zoo.core.recipe import Recipe
from zoo.families.kws.model import num_samples
from zoo.families.kws.recipes import VOICES, output_labels


def load_audio(recipe: Recipe, data_root: Path) -> speech.AudioSet:
    """Decodes (or synthesizes) the recipe's data set, cached under `data_root`."""
    d = recipe.data
    cache = data_root / "cache"
    length = num_samples(recipe)
    if d.source == "tts":
        spec = speech.TTSSpec(words=tuple(d.words) + tuple(d.unknown_words),
                              voices=tuple(d.tts_voices) or VOICES[:16], takes=d.tts_takes,
                              rates=tuple(d.tts_rates), pitches=tuple(d.tts_pitches),
                              channel_copies=d.tts_channel_copies)
        aset = speech.synthesize(spec, d.sample_rate, length, cache, seed=recipe.train.seed)
        speech.write_examples(aset, d.sample_rate, data_root / "examples")
        return aset
    if d.path:
        root = Path(d.path).expanduser()
    elif d.source == "speech_commands":
        root = speech.download_speech_commands(data_root / "speech_commands_v0.02")
    else:
        raise ZooError(f"--data {d.source}: give the folder, e.g. --data {d.source}:PATH")
    return speech.load_recordings(d.source, root, d.sample_rate, length, cache, in_memory_mb=d.in_memory_mb)


def _rows(audio, index):
    """The clips at `index` (a mask or positions): read from an array, or a view of clips on disk."""
    return audio.subset(index) if isinstance(audio, DiskClips) else audio[index]


def _join(parts):
    """Clips one after another: an array, or a view of clips on disk (and clips cut from noise)."""
    if isinstance(parts[0], DiskClips):
        joined = parts[0]
        for part in parts[1:]:
            joined = joined.join(part)
        return joined
    return np.concatenate(parts)


def assign(aset: speech.AudioSet, labels: list[str], split: str | None, recipe: Recipe,
           seed: int = 0, make_silence: bool = True):
    """Clips of one split (None = all) as (int16 audio, int labels) for the model's labels.

    Words the model does not know become `_unknown_` where it has that class
    (subsampled to `unknown_percent`), else are dropped; `_silence_` clips are
    cut from the noise bank.
    """
    d = recipe.data
    index = {name: i for i, name in enumerate(labels)}
    rng = np.random.default_rng([seed, zlib.crc32((split or "all").encode())])
    mask = np.ones(len(aset.labels), bool) if split is None else aset.splits == split
    known = mask & np.isin(aset.labels, [w for w in labels if w not in (SILENCE, UNKNOWN)])
    x, y = [_rows(aset.audio, known)], [np.array([index[w] for w in aset.labels[known]], np.int64)]
    n_known = int(known.sum())
    if UNKNOWN in index:
        other = np.flatnonzero(mask & ~known)
        keep = min(len(other), int(round(n_known * d.unknown_percent / 100)))
        pick = np.sort(rng.choice(other, keep, replace=False)) if keep else other[:0]
        x.append(_rows(aset.audio, pick))
        y.append(np.full(len(pick), index[UNKNOWN]))
    if SILENCE in index and make_silence:
        count = int(round(n_known * d.silence_percent / 100))
        length = aset.audio.shape[1]
        rows = rng.integers(0, len(aset.noise), count)
        starts = rng.integers(0, aset.noise.shape[1] - length + 1, count)
        levels = rng.uniform(0, 0.05, count) * (rng.random(count) > 0.1)
        cuts = NoiseCuts(aset.noise, rows, starts, levels, length)  # a set on disk cuts them when read
        x.append(DiskClips([cuts], length) if isinstance(aset.audio, DiskClips) else cuts.read(np.arange(count)))
        y.append(np.full(count, index[SILENCE]))
    return _join(x), np.concatenate(y).astype(np.int64)


def datasets(recipe: Recipe, data_root: Path) -> Splits:
    """Train/validation pipelines (tf.data) and test arrays for a kws recipe."""
    d, t = recipe.data, recipe.train
    aset = load_audio(recipe, data_root)
    labels = output_labels(recipe, aset.labels)
    parts = {s: assign(aset, labels, s, recipe, seed=t.seed) for s in ("train", "validation", "test")}
    for s in ("train", "validation"):
        if len(parts[s][1]) == 0:
            raise ZooError(f"data set {d.source}:{d.path or 'default'} has no {s} clips for labels {labels}")
    heard = set(aset.labels[aset.splits == "train"])
    unheard = [w for w in labels if w not in (SILENCE, UNKNOWN) and w not in heard]
    if unheard:  # a misspelt keyword would be a class the model never hears
        raise ZooError(f"data.words: no training clips of {', '.join(map(repr, unheard))} in {d.source}:"
                       f"{d.path or 'default'} (its words: {', '.join(sorted(set(aset.labels)))})")
    augment = batch_augmenter(aset.noise, int(d.sample_rate * d.shift_ms / 1000), d.noise_prob,
                              d.snr_db, d.gain_db, d.speed, cut=d.cut_percent / 100,
                              cut_label=labels.index(SILENCE) if SILENCE in labels else None,
                              cut_beyond=(int(0.1 * d.sample_rate), int(0.3 * d.sample_rate)),
                              place=d.place_percent / 100, partial=d.partial_percent / 100)

    def prepare(audio, y):
        return tf.cast(audio, tf.float32) / 32768.0, tf.one_hot(y, len(labels))

    x, y = parts["train"]
    if d.train_on_validation:
        x, y = _join([x, parts["validation"][0]]), np.concatenate([y, parts["validation"][1]])
    if isinstance(x, DiskClips):  # larger than memory: batches of the same shuffle, read from disk
        train = x.batches(y, t.batch_size, shuffle_seed=t.seed, drop_remainder=len(y) >= t.batch_size)
        validation = parts["validation"][0].batches(parts["validation"][1], 256).map(prepare)
    else:
        train = (tf.data.Dataset.from_tensor_slices((x, y))
                 .shuffle(len(y), seed=t.seed, reshuffle_each_iteration=True)
                 .batch(t.batch_size, drop_remainder=len(y) >= t.batch_size))
        validation = tf.data.Dataset.from_tensor_slices(parts["validation"]).batch(256).map(prepare).cache()
    train = train.map(prepare).map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    counts = {s: int(len(parts[s][1])) for s in parts}
    info = {"source": d.source, "path": d.path, "clips": counts, "skipped_files": len(aset.skipped),
            "skipped": aset.skipped[:20], "validation_in_training": d.train_on_validation,
            "streamed_from_disk": isinstance(x, DiskClips)}
    return Splits(train, validation, parts["test"], len(y), labels, info)


def eval_data(recipe: Recipe, labels, data_root: Path, split: str | None):
    """(int16 audio, int labels, info) from the recipe's data set for a trained model's labels."""
    aset = load_audio(recipe, data_root)
    unknown = sorted(set(aset.labels) - set(labels)) if UNKNOWN not in labels else []
    x, y = assign(aset, list(labels), split, recipe, seed=recipe.train.seed)
    if not len(y):
        where = recipe.data.path or recipe.data.source
        raise ZooError(f"{where}: no clips with the model's labels in {split or 'any'} split (it has "
                       f"{', '.join(sorted(set(aset.labels))) or 'none'}; the model knows {', '.join(labels)})")
    return x, y, {"skipped_files": len(aset.skipped), "labels_not_in_model": unknown}


def export_data(recipe: Recipe, labels, data_root: Path, calibration: bool = False,
                limit: int = 600, count: int = 200):
    """Clips for an export, from one load of the data set (float audio in [-1, 1]).

    Returns (check_x, check_y, calibration_x): up to `limit` held-out clips (test
    split, else validation) with labels, and `count` training clips for int8
    calibration (None unless `calibration`).
    """
    aset = load_audio(recipe, data_root)
    seed = recipe.train.seed

    def pick(split, n, rng_seed):
        x, y = assign(aset, list(labels), split, recipe, seed=seed)
        order = np.random.default_rng(rng_seed).permutation(len(y))[:n]
        return x[order].astype(np.float32) / 32768.0, y[order]

    x, y = pick("test", limit, 0)
    if len(y) == 0:
        x, y = pick("validation", limit, 0)
    return x, y, pick("train", count, 1)[0] if calibration else None
