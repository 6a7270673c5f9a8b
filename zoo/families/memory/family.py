"""Long memory (the adding problem) as a `Family`: the hooks the generic code calls.

The task that shows why gates matter: at T = 100 the gated cells learn to carry
the first marked value to the end and the plain RNN does not (`bench/memory.py`
trains every cell at T = 10, 50, 100 and 200 under one budget).

Example:
    >>> family = LongMemory()
    >>> family.capabilities.input_kind, family.capabilities.verbs
    ('sequence', ('predict',))
    >>> [family.count_params(r) for r in family.recipes()]
    [4353, 17217, 13121]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Capabilities, Family, GateInput, Headline
from zoo.core.recipe import Recipe, apply_overrides
from zoo.families.memory import recipes as memory_recipes
from zoo.families.memory.recipes import MemoryData, MemoryModel
from zoo.families.memory.size import count_params

TASK = "task.json"


class LongMemory(Family):
    """(value, marker) steps -> stacked rnn/lstm/gru -> the last state -> the sum of the two marked values."""

    name = memory_recipes.NAME
    title = "long memory (the adding problem)"
    model_config = MemoryModel
    data_config = MemoryData
    sources = memory_recipes.SOURCES
    monitor, monitor_mode = "val_loss", "min"
    capabilities = Capabilities(input_kind="sequence", verbs=("predict",), quantize=("none", "dynamic"))
    headline = Headline("accuracy", "validation_accuracy", "test_accuracy")

    def recipes(self) -> list[Recipe]:
        return memory_recipes.recipes()

    def with_data(self, recipe: Recipe, spec: str | None) -> Recipe:
        recipe = super().with_data(recipe, spec)
        if recipe.data.path:
            raise ZooError(f"--data {spec}: the adding problem is generated; it takes no path "
                           "(set its length with --set data.length=T)")
        return recipe

    def count_params(self, recipe: Recipe, meta=None) -> int:
        return count_params(recipe)

    def tiny(self, recipe: Recipe) -> Recipe:
        return apply_overrides(recipe, [
            "model.units=4", "data.length=12", "data.validation_size=64", "data.test_size=64",
            "train.epochs=1", "train.steps_per_epoch=3", "train.batch_size=8", "train.max_seconds=30"])

    def sample_data(self, folder: Path, recipe: Recipe | None = None) -> str:
        """Writes `sequences.npy` (four sequences of 12 steps, for `zoo predict` and `zoo gates`); the
        training data is generated, so the spec is `adding`."""
        from zoo.families.memory.data import adding_problem

        x, _ = adding_problem(4, 12, seed=(5, 5))
        Path(folder).mkdir(parents=True, exist_ok=True)
        np.save(Path(folder) / "sequences.npy", x.numpy())
        return "adding"

    def build(self, recipe: Recipe, meta):
        from zoo.families.memory.model import build

        return build(recipe)

    def default_meta(self, recipe: Recipe):
        d = recipe.data
        return {"task": d.source, "length": d.length, "tolerance": d.tolerance}

    def save_meta(self, run_dir: Path, meta) -> None:
        runs.write_json(Path(run_dir) / TASK, meta)

    def load_meta(self, run_dir: Path):
        return runs.read_json(Path(run_dir) / TASK)

    def datasets(self, recipe: Recipe, data_root: Path):
        from zoo.families.memory.data import datasets

        return datasets(recipe, data_root)

    def compile_args(self, recipe: Recipe) -> dict:
        import keras

        return dict(loss=keras.losses.MeanSquaredError())

    def final_metrics(self, model, splits, run_dir: Path, recipe: Recipe) -> dict:
        from zoo.families.memory.evaluate import final_metrics

        return final_metrics(model, splits, run_dir, recipe)

    def evaluate(self, recipe, model, meta, run_dir, data_root, split, beam: int = 1):
        from zoo.families.memory.evaluate import evaluate_run

        return evaluate_run(recipe, model, split)

    def prepare_export(self, recipe, meta, data_root, quantize):
        """The check's validation sequences."""
        from zoo.families.memory.data import fixed_split

        return fixed_split(recipe, "validation")

    def export_savedmodel(self, model, recipe, meta, path) -> None:
        from zoo.families.memory.export import export_savedmodel

        export_savedmodel(model, recipe, path)

    def export_tflite(self, model, recipe, meta, quantize, context) -> bytes:
        from zoo.families.memory.export import export_tflite

        return export_tflite(model, recipe, quantize)

    def check_export(self, model, recipe, meta, path, context) -> dict:
        from zoo.families.memory.export import check_export

        return check_export(model, recipe, path, context)

    def export_meta(self, recipe, meta) -> dict:
        from zoo.families.memory.export import export_meta

        return export_meta(recipe)

    def inference(self, run):
        from zoo.families.memory.predict import open_adder

        return open_adder(run)

    def gate_input(self, recipe, meta, source: str) -> GateInput:
        """A sequence file (`.npy` [T, 2] or [N, T, 2]: the first sequence; or `.csv`): one step per value,
        the marked steps drawn as lines."""
        from zoo.families.memory.predict import read_sequences

        x = read_sequences(Path(source))[:1]
        marks = tuple(int(t) for t in np.flatnonzero(x[0, :, 1]))
        return GateInput(batch=x, steps=list(range(x.shape[1])), axis="step (dashed: the marked values)",
                         marks=marks)
