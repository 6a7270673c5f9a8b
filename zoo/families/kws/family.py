"""Keyword spotting as a `Family`: the hooks the generic code calls, each a line or two into this package.

The modules that need TensorFlow (model, data, evaluate, export, predict) are
imported when a hook first runs, so `zoo list` and `zoo --help` never load it.

Example:
    >>> family = KeywordSpotting()
    >>> family.capabilities.quantize
    ('none', 'dynamic', 'int8')
    >>> family.count_params(family.recipes()[0])
    116619
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.audio.speech import SC_COMMANDS, SC_OTHER
from zoo.core import runs
from zoo.core.family import Capabilities, Family, GateInput, Headline
from zoo.core.recipe import Recipe, apply_overrides
from zoo.families.kws import recipes as kws_recipes
from zoo.families.kws.checks import check
from zoo.families.kws.recipes import KWSData, KWSModel
from zoo.families.kws.size import count_params, why_not_causal

SAMPLE_WORDS = ("zero", "one", "two")


class KeywordSpotting(Family):
    """Raw audio -> log-mel/MFCC front end -> stacked rnn/lstm/gru -> pooling -> class logits."""

    name = kws_recipes.NAME
    title = "keyword spotting"
    model_config = KWSModel
    data_config = KWSData
    sources = kws_recipes.SOURCES
    monitor, monitor_mode = "val_accuracy", "max"
    capabilities = Capabilities(input_kind="audio", verbs=("predict", "listen"), quantize=("none", "dynamic", "int8"),
                                streams=True, distills=True, ensembles=True)
    headline = Headline("accuracy", "validation_accuracy", "test_accuracy")

    def recipes(self) -> list[Recipe]:
        return kws_recipes.recipes()

    def check_recipe(self, recipe: Recipe) -> None:
        check(recipe)

    def count_params(self, recipe: Recipe, meta=None) -> int:
        return count_params(recipe, len(meta if meta is not None else self.default_meta(recipe)))

    def tiny(self, recipe: Recipe) -> Recipe:
        return apply_overrides(recipe, [
            "model.units=4", "model.layers=1", f"model.conv_filters={4 if recipe.model.conv_filters else 0}",
            "train.epochs=1", "train.batch_size=16", "train.max_seconds=0",
            f"data.words={SAMPLE_WORDS}", "data.silence_percent=0", "data.unknown_percent=0"])

    def sample_data(self, folder: Path, recipe: Recipe | None = None) -> str:
        """FSDD-layout wavs of three digits, two eSpeak NG voices, 12 takes each, at 8 kHz."""
        from zoo.families.kws.sample import write_digit_folder

        write_digit_folder(Path(folder), SAMPLE_WORDS)
        return f"fsdd:{folder}"

    def build(self, recipe: Recipe, meta):
        from zoo.families.kws.model import build

        return build(recipe, meta)

    def default_meta(self, recipe: Recipe) -> list[str]:
        return kws_recipes.output_labels(recipe, SC_COMMANDS + SC_OTHER if not recipe.data.words else ())

    def save_meta(self, run_dir: Path, meta) -> None:
        runs.write_json(Path(run_dir) / "labels.json", list(meta))

    def load_meta(self, run_dir: Path) -> list[str]:
        return runs.read_json(Path(run_dir) / "labels.json")

    def custom_objects(self) -> dict:
        from zoo.audio.features import CUSTOM_OBJECTS

        return dict(CUSTOM_OBJECTS)

    def ensemble(self, recipes, models, meta, names):
        from zoo.families.kws.ensemble import join

        return join(recipes, models, meta, names)

    def datasets(self, recipe: Recipe, data_root: Path):
        from zoo.families.kws.data import datasets

        return datasets(recipe, data_root)

    def compile_args(self, recipe: Recipe) -> dict:
        import keras

        return dict(loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=recipe.train.label_smoothing), metrics=["accuracy"])

    def final_metrics(self, model, splits, run_dir: Path, recipe: Recipe) -> dict:
        from zoo.families.kws.evaluate import final_metrics

        return final_metrics(model, splits, run_dir, recipe)

    def evaluate(self, recipe, model, meta, run_dir, data_root, split, beam: int = 1):
        from zoo.families.kws.evaluate import evaluate_run

        return evaluate_run(recipe, model, meta, run_dir, data_root, split)

    def prepare_export(self, recipe, meta, data_root, quantize):
        from zoo.families.kws.export import prepare_export

        return prepare_export(recipe, meta, data_root, quantize)

    def export_savedmodel(self, model, recipe, meta, path) -> None:
        from zoo.families.kws.export import export_savedmodel

        export_savedmodel(model, recipe, path)

    def export_tflite(self, model, recipe, meta, quantize, context) -> bytes:
        from zoo.families.kws.export import export_tflite

        return export_tflite(model, recipe, quantize, context)

    def check_export(self, model, recipe, meta, path, context) -> dict:
        from zoo.families.kws.export import check_export

        return check_export(model, path, context)

    def export_meta(self, recipe, meta) -> dict:
        from zoo.families.kws.export import export_meta

        return export_meta(recipe, meta)

    def inference(self, run):
        from zoo.families.kws.stream_export import inference

        return inference(run, run.recipe is not None and self.stream_blocker(run.recipe) is None)

    def stream_blocker(self, recipe: Recipe) -> str | None:
        if recipe.model.causal:
            return None
        return why_not_causal(recipe.model) or "it is not a causal (`u`) recipe"

    def export_stream_savedmodel(self, model, recipe, meta, path) -> None:
        from zoo.families.kws.stream_export import export_stream_savedmodel

        export_stream_savedmodel(model, path)

    def export_stream_tflite(self, model, recipe, meta, quantize, context) -> bytes:
        from zoo.families.kws.stream_export import export_stream_tflite

        return export_stream_tflite(model, quantize, context[2])

    def stream_meta(self, model, recipe, meta) -> dict:
        from zoo.families.kws.stream_export import stream_meta

        return stream_meta(model, recipe, meta)

    def check_stream(self, model, recipe, meta, path, context) -> dict:
        from zoo.families.kws.stream_export import check_stream, stream_meta

        return check_stream(model, recipe, path, stream_meta(model, recipe, meta), context)

    def evaluate_stream(self, run, recording, truth, out_dir, **options) -> dict:
        from zoo.families.kws.stream_eval import evaluate_stream

        return evaluate_stream(self.inference(run), recording, truth, out_dir, **options)

    def gate_input(self, recipe, meta, source: str) -> GateInput:
        """A wav, decoded as `zoo predict` does; steps are the feature frames' centre times."""
        from zoo.families.kws.model import front_end, num_samples
        from zoo.families.kws.predict import prepare_clip

        clip = prepare_clip(source, recipe.data.sample_rate, num_samples(recipe))
        features = front_end(recipe)
        frames = features.num_frames(num_samples(recipe))
        if recipe.model.conv_filters:  # the second convolution halves the frame rate
            frames, hop = -(-frames // 2), 2 * features.frame_step
        else:
            hop = features.frame_step
        rate = recipe.data.sample_rate
        times = [round((i * hop + features.fft_length / 2) / rate, 3) for i in range(frames)]
        return GateInput(batch=clip[None].astype(np.float32), steps=times, axis="time (s)",
                         waveform=(clip, rate))

