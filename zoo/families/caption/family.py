"""Video captioning as a `Family`: the hooks the generic code calls, each a line or two into this package.

The modules that need TensorFlow are imported when a hook first runs, so
`zoo list` and `zoo --help` never load it.

Example:
    >>> family = VideoCaptioning()
    >>> family.capabilities.verbs, family.capabilities.beam
    (('caption',), True)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.family import Capabilities, Family, GateInput, Headline
from zoo.core.recipe import Recipe, apply_overrides
from zoo.families.caption import recipes as caption_recipes
from zoo.families.caption.recipes import CaptionData, CaptionModel
from zoo.families.caption.size import count_params
from zoo.text.words import WordVocabulary

#: The stand-in vocabulary size for counting parameters before data is read (the shapes grammar's).
DEFAULT_VOCABULARY = 64


class VideoCaptioning(Family):
    """Clips -> frame encoder -> meanpool / s2vt / attention head -> rnn/lstm/gru word decoder."""

    name = caption_recipes.NAME
    title = "video captioning"
    model_config = CaptionModel
    data_config = CaptionData
    sources = caption_recipes.SOURCES
    monitor, monitor_mode = "val_CIDEr", "max"
    capabilities = Capabilities(input_kind="video", verbs=("caption",), quantize=("none", "dynamic"), beam=True)
    headline = Headline("CIDEr", "validation.CIDEr", "test.CIDEr")

    def recipes(self) -> list[Recipe]:
        return caption_recipes.recipes()

    def with_data(self, recipe: Recipe, spec: str | None) -> Recipe:
        recipe = super().with_data(recipe, spec)
        m = recipe.model
        if (recipe.data.source == "features") != (m.encoder == "features"):
            need = ("model.encoder=features" if recipe.data.source == "features"
                    else "a pixel encoder (model.encoder=conv)")
            raise ZooError(f"--data {recipe.data.source} needs {need}; this recipe has model.encoder={m.encoder}")
        if m.encoder == "mobilenet_v3_small":
            from zoo.families.caption.model import MOBILENET_WEIGHTS, mobilenet_weights

            if mobilenet_weights() is None:
                print(f"note: {MOBILENET_WEIGHTS} is not in ~/.keras/models and cannot be downloaded here: "
                      "using the trainable conv frame encoder instead", file=sys.stderr)
                recipe = apply_overrides(recipe, ["model.encoder=conv"])
        return recipe

    def check_recipe(self, recipe: Recipe) -> None:
        m = recipe.model
        if m.encoder in ("slots", "conv", "mobilenet_v3_small"):  # mobilenet falls back to conv without weights
            if not m.conv_filters or min(m.conv_filters) < 1:
                raise ZooError(f"model.conv_filters={m.conv_filters}: the {m.encoder} encoder needs one or more "
                               "convolutions, each of 1 or more filters")
            if m.size < 2 ** len(m.conv_filters):
                raise ZooError(f"model.size={m.size}: {len(m.conv_filters)} convolutions, each halving the frame, "
                               f"need frames of at least {2 ** len(m.conv_filters)} pixels")

    def count_params(self, recipe: Recipe, meta=None) -> int:
        return count_params(recipe, len(meta) if meta is not None else DEFAULT_VOCABULARY)

    def tiny(self, recipe: Recipe) -> Recipe:
        return apply_overrides(recipe, [
            "model.units=4", "model.embedding=3", "model.frame_dim=4", "model.conv_filters=(2,)", "model.size=16",
            "model.frames=4", "model.feature_dim=6", "data.train_clips=16", "data.validation_clips=4",
            "data.test_clips=4", "data.frames=8", "data.size=32", "train.epochs=1", "train.steps_per_epoch=2",
            "train.batch_size=4", "train.max_seconds=60", "train.patience=0", "data.meteor=False"])

    def sample_data(self, folder: Path, recipe: Recipe | None = None) -> str:
        """Frames folders, videos and features of a few shapes clips; the spec of the kind `recipe` reads."""
        from zoo.families.caption.sample import write_sample

        if not (Path(folder) / "training_label.json").is_file():
            write_sample(Path(folder))
        features = recipe is not None and recipe.model.encoder == "features"
        return f"{'features' if features else 'frames'}:{folder}"

    def build(self, recipe: Recipe, meta):
        from zoo.families.caption.model import build

        return build(recipe, len(meta))

    def default_meta(self, recipe: Recipe):
        return WordVocabulary([f"word{i}" for i in range(DEFAULT_VOCABULARY - 4)])

    def save_meta(self, run_dir: Path, meta) -> None:
        meta.save(Path(run_dir) / "vocab.json")

    def load_meta(self, run_dir: Path):
        return WordVocabulary.load(Path(run_dir) / "vocab.json")

    def custom_objects(self) -> dict:
        from zoo.families.caption.decoder import CaptionDecoder
        from zoo.families.caption.slots import ColourSlots, SlotEmbedding
        from zoo.nn.layers import Luminance

        return {"CaptionDecoder": CaptionDecoder, "ColourSlots": ColourSlots, "Luminance": Luminance,
                "SlotEmbedding": SlotEmbedding}

    def datasets(self, recipe: Recipe, data_root: Path):
        from zoo.families.caption.data import datasets

        return datasets(recipe)

    def callbacks(self, recipe: Recipe, splits) -> list:
        """Greedy-decodes the validation clips after every epoch: `val_CIDEr` picks the checkpoint."""
        from zoo.families.caption.evaluate import cider_callback

        return [cider_callback(splits.test["validation"], splits.meta, self.export_meta(recipe, splits.meta))]

    def compile_args(self, recipe: Recipe) -> dict:
        import keras

        from zoo.text.words import PAD

        words = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD)
        if not recipe.model.concepts:
            return dict(loss=words)
        return dict(loss={"words": words, "concepts": keras.losses.BinaryCrossentropy(from_logits=True)},
                    loss_weights={"words": 1.0, "concepts": recipe.model.concepts})

    def final_metrics(self, model, splits, run_dir: Path, recipe: Recipe) -> dict:
        from zoo.families.caption.evaluate import final_metrics

        return final_metrics(model, splits, run_dir, self.export_meta(recipe, splits.meta),
                             java=None if recipe.data.meteor else False)

    def evaluate(self, recipe, model, meta, run_dir, data_root, split, beam: int = 1):
        from zoo.families.caption.evaluate import evaluate_run

        return evaluate_run(recipe, model, meta, run_dir, self.export_meta(recipe, meta), split, beam)

    def prepare_export(self, recipe, meta, data_root, quantize):
        """Held-out clips for the check: up to 8 of the test split (validation, then train, if it is empty)."""
        from zoo.families.caption.data import load_split

        for split in ("test", "validation", "train"):
            clips, _ = load_split(recipe, split)
            if len(clips.ids):
                return clips.clips[:8]
        raise ZooError(f"{recipe.data.path or recipe.data.source}: no clips to check the export on")

    def export_savedmodel(self, model, recipe, meta, path) -> None:
        from zoo.families.caption.export import export_savedmodel

        export_savedmodel(model, recipe, path)

    def export_tflite(self, model, recipe, meta, quantize, context) -> bytes:
        from zoo.families.caption.export import export_tflite

        return export_tflite(model, recipe, quantize)

    def check_export(self, model, recipe, meta, path, context) -> dict:
        from zoo.families.caption.export import check_export

        return check_export(model, recipe, meta, path, context)

    def export_meta(self, recipe, meta) -> dict:
        from zoo.families.caption.export import export_meta

        return export_meta(recipe, meta)

    def inference(self, run):
        from zoo.families.caption.captioner import open_captioner

        return open_captioner(run)

    def gate_input(self, recipe, meta, source: str) -> GateInput:
        """A clip (frames folder, video or features .npy): the encoder's steps are its frames."""
        from zoo.families.caption.captioner import Captioner

        reader = Captioner(None, None, meta, self.export_meta(recipe, meta))
        clip = reader.read(Path(source)).astype(np.float32)[None]
        words = np.zeros((1, 1), np.int32)
        return GateInput(batch=[clip, words], steps=list(range(1, clip.shape[1] + 1)), axis="frame")
