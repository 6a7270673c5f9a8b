"""Character-level text generation as a `Family`: the hooks the generic code calls.

The modules that need TensorFlow are imported when a hook first runs, so
`zoo list` and `zoo --help` never load it.

Example:
    >>> family = TextGeneration()
    >>> family.capabilities.verbs, family.capabilities.quantize
    (('generate',), ('none', 'dynamic'))
    >>> family.count_params(family.recipes()[0])
    278433
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.family import Capabilities, Family, GateInput, Headline
from zoo.core.recipe import Recipe, apply_overrides
from zoo.families.chargen import recipes as chargen_recipes
from zoo.families.chargen.recipes import ChargenData, ChargenModel
from zoo.families.chargen.size import count_params
from zoo.text.corpus import Vocabulary

SAMPLE_TEXT = "the quick brown fox jumps over the lazy dog.\nso it goes, again and again.\n" * 60


class TextGeneration(Family):
    """Characters -> Embedding -> stacked rnn/lstm/gru -> next-character logits; generation streams."""

    name = chargen_recipes.NAME
    title = "text generation"
    model_config = ChargenModel
    data_config = ChargenData
    sources = chargen_recipes.SOURCES
    monitor, monitor_mode = "val_loss", "min"
    capabilities = Capabilities(input_kind="text", verbs=("generate",), quantize=("none", "dynamic"),
                                streams=True)
    headline = Headline("bits per character", "validation_bits_per_char", None, higher_is_better=False)

    def recipes(self) -> list[Recipe]:
        return chargen_recipes.recipes()

    def with_data(self, recipe: Recipe, spec: str | None) -> Recipe:
        recipe = super().with_data(recipe, spec)
        if recipe.data.source == "text" and not recipe.data.path:
            raise ZooError("--data text needs a path: text:FILE_OR_FOLDER")
        return recipe

    def count_params(self, recipe: Recipe, meta=None) -> int:
        return count_params(recipe, len(meta if meta is not None else self.default_meta(recipe)))

    def tiny(self, recipe: Recipe) -> Recipe:
        return apply_overrides(recipe, [
            "model.units=4", "model.embedding=3", "data.seq_len=16", "train.epochs=1",
            "train.steps_per_epoch=3", "train.batch_size=8", "train.max_seconds=30"])

    def sample_data(self, folder: Path, recipe: Recipe | None = None) -> str:
        path = Path(folder) / "corpus.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SAMPLE_TEXT, encoding="utf-8")
        return f"text:{path}"

    def build(self, recipe: Recipe, meta):
        from zoo.families.chargen.model import build

        return build(recipe, len(meta))

    def default_meta(self, recipe: Recipe):
        """A stand-in vocabulary (printable ASCII and newline) for counting parameters."""
        return Vocabulary(["\n"] + [chr(c) for c in range(32, 127)])

    def save_meta(self, run_dir: Path, meta) -> None:
        meta.save(Path(run_dir) / "vocab.json")

    def load_meta(self, run_dir: Path):
        return Vocabulary.load(Path(run_dir) / "vocab.json")

    def datasets(self, recipe: Recipe, data_root: Path):
        from zoo.families.chargen.data import datasets

        return datasets(recipe, data_root)

    def compile_args(self, recipe: Recipe) -> dict:
        import keras

        return dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def final_metrics(self, model, splits, run_dir: Path, recipe: Recipe) -> dict:
        from zoo.families.chargen.evaluate import final_metrics

        return final_metrics(model, splits, run_dir, recipe)

    def evaluate(self, recipe, model, meta, run_dir, data_root, split, beam: int = 1):
        from zoo.families.chargen.evaluate import evaluate_run

        return evaluate_run(recipe, model, meta, run_dir, data_root, split)

    def prepare_export(self, recipe, meta, data_root, quantize):
        """The check reads validation text itself."""
        return data_root

    def export_savedmodel(self, model, recipe, meta, path) -> None:
        from zoo.families.chargen.export import export_savedmodel

        export_savedmodel(model, recipe, path)

    def export_tflite(self, model, recipe, meta, quantize, context) -> bytes:
        from zoo.families.chargen.export import export_tflite

        return export_tflite(model, recipe, quantize)

    def check_export(self, model, recipe, meta, path, context) -> dict:
        from zoo.families.chargen.export import check_export

        return check_export(model, recipe, meta, path, context)

    def export_meta(self, recipe, meta) -> dict:
        from zoo.families.chargen.export import export_meta

        return export_meta(recipe, meta)

    def inference(self, run):
        from zoo.families.chargen.generate import open_generator

        return open_generator(run)

    def gate_input(self, recipe, meta, source: str) -> GateInput:
        """The text itself: one step per character."""
        text = source or "\n"
        return GateInput(batch=np.asarray(meta.encode(text), np.int32)[None], steps=list(text), axis="character")
