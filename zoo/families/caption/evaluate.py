"""Caption metrics: pycocoevalcap scores, per-attribute accuracy on `shapes`, a grid of captioned clips,
and the callback that picks the best checkpoint by validation CIDEr (real decoding, not teacher forcing)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure

from zoo.core import runs
from zoo.core.recipe import Recipe
from zoo.families.caption.captioner import Captioner
from zoo.families.caption.data import ClipSet, load_split
from zoo.text.caption_metrics import caption_scores
from zoo.text.words import WordVocabulary
from zoo.video.shapes import attribute_scores

MONITOR = "val_CIDEr"


def attribute_accuracy(captions: list[str], objects: list) -> dict:
    """Share of clips whose caption names every object's colour, shape and motion right (and no other),
    and per attribute the share of objects named right; overall and by object count."""
    scored = [attribute_scores(c, o) for c, o in zip(captions, objects)]

    def summary(rows):
        if not rows:
            return {}
        objects_n = sum(r["objects"] for r in rows)
        return {"clips": len(rows), "all_correct": round(float(np.mean([r["all_correct"] for r in rows])), 4),
                **{a: round(sum(r[a] for r in rows) / objects_n, 4) for a in ("colour", "shape", "motion")}}

    return {"all": summary(scored), "one_object": summary([r for r in scored if r["objects"] == 1]),
            "two_objects": summary([r for r in scored if r["objects"] == 2])}


def score_clips(captioner: Captioner, clips: ClipSet, beam: int = 1, java: bool | None = None) -> tuple[dict, list]:
    """(metrics, generated captions) of a clip set."""
    generated = captioner.caption_clips(clips.clips, beam)
    refs = {i: c for i, c in zip(clips.ids, clips.captions)}
    result = caption_scores(refs, dict(zip(clips.ids, generated)), java=java)
    result = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
    if clips.objects is not None:
        result["attributes"] = attribute_accuracy(generated, clips.objects)
        for count, name in ((1, "one_object"), (2, "two_objects")):
            keep = [k for k, objs in enumerate(clips.objects) if len(objs) == count]
            if keep:
                sub = caption_scores({clips.ids[k]: clips.captions[k] for k in keep},
                                     {clips.ids[k]: generated[k] for k in keep}, java=False)
                result[f"CIDEr_{name}"] = round(sub["CIDEr"], 4)
    result["beam"] = beam
    return result, generated


def draw_grid(path: Path, clips: ClipSet, generated: list, count: int = 12) -> None:
    """A PNG grid: for each clip its first, middle and last frame, the generated caption and a reference."""
    if clips.clips.ndim != 5 or not len(clips.ids):
        return  # features have no pixels to show
    count = min(count, len(clips.ids))
    fig = Figure(figsize=(9, 2.3 * count))
    axes = fig.subplots(count, 3, squeeze=False)
    frames = clips.clips.shape[1]
    for row in range(count):
        for col, f in enumerate((0, frames // 2, frames - 1)):
            ax = axes[row, col]
            ax.imshow(clips.clips[row, f].astype(np.uint8))
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_title(f"model: {generated[row]}\ntrue: {clips.captions[row][0]}", loc="left",
                               fontsize=8)
    fig.tight_layout()
    runs.save_figure(fig, path, dpi=70)


def cider_callback(clips: ClipSet, vocab: WordVocabulary, meta: dict):
    """Writes `val_CIDEr` (greedy captions of the validation clips) into every epoch's logs."""
    class ValidationCIDEr(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.captioner = Captioner.from_keras(self.model, vocab, meta)  # traced once, shares the weights

        def on_epoch_end(self, epoch, logs=None):
            if logs is None or not len(clips.ids):
                return
            scores, _ = score_clips(self.captioner, clips, java=False)
            logs[MONITOR] = scores["CIDEr"]
            if clips.objects is not None:
                logs["val_all_correct"] = scores["attributes"]["all"]["all_correct"]

    return ValidationCIDEr()


def final_metrics(model, splits, run_dir: Path, meta: dict, java: bool | None = None) -> dict:
    """The best checkpoint's scores on the validation and test splits (greedy), and the test grid; `java` as
    `caption_scores` takes it."""
    captioner = Captioner.from_keras(model, splits.meta, meta)
    out = {}
    for split in ("validation", "test"):
        clips = splits.test[split]
        if len(clips.ids):
            out[split], generated = score_clips(captioner, clips, java=java)
            if split == "test":
                draw_grid(Path(run_dir) / "captions_test.png", clips, generated)
    return {**out, "vocabulary": len(splits.meta)}


def evaluate_run(recipe: Recipe, model, vocab: WordVocabulary, run_dir: Path, meta: dict, split: str | None,
                 beam: int) -> tuple[dict, str]:
    """`zoo eval`: scores on a split, with greedy or beam decoding, and the grid PNG."""
    clips, facts = load_split(recipe, split)
    captioner = Captioner.from_keras(model, vocab, meta)
    result, generated = score_clips(captioner, clips, beam)
    tag = f"{recipe.data.source}_{split or 'all'}" + (f"_beam{beam}" if beam > 1 else "")
    draw_grid(Path(run_dir) / f"captions_{tag}.png", clips, generated)
    result["examples"] = [{"id": i, "caption": g, "reference": c[0]}
                          for i, g, c in list(zip(clips.ids, generated, clips.captions))[:10]]
    result["skipped_clips"] = len(facts.get("skipped", []))
    return result, tag
