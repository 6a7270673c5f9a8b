"""Review sentiment as a `Family`: the hooks the generic code calls.

The modules that need TensorFlow are imported when a hook first runs, so
`zoo list` and `zoo --help` never load it.

Example:
    >>> family = Sentiment()
    >>> family.capabilities.input_kind, family.capabilities.verbs
    ('text', ('predict',))
    >>> family.count_params(family.recipes()[0])
    1346562
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.core import runs
from zoo.core.errors import ZooError
from zoo.core.family import Capabilities, Family, GateInput, Headline
from zoo.core.recipe import Recipe, apply_overrides
from zoo.families.sentiment import recipes as sentiment_recipes
from zoo.families.sentiment.recipes import SentimentData, SentimentModel
from zoo.families.sentiment.size import count_params
from zoo.text.subwords import load_vocabulary
from zoo.text.words import SPECIALS, WordVocabulary

LABELS = "labels.json"
VOCAB = "vocab.json"
SAMPLE = {"1": ["a warm , funny and moving film", "great acting and a lovely story", "simply wonderful fun",
                "the best film of the year", "charming , clever and moving"],
          "0": ["a dull and boring mess", "the worst film of the year", "painfully slow and silly",
                "a tedious , lifeless story", "bad acting and a boring plot"]}


class Sentiment(Family):
    """Words -> Embedding -> (bi)directional rnn/lstm/gru -> last state -> label logits."""

    name = sentiment_recipes.NAME
    title = "sentiment classification"
    model_config = SentimentModel
    data_config = SentimentData
    sources = sentiment_recipes.SOURCES
    monitor, monitor_mode = "val_accuracy", "max"
    capabilities = Capabilities(input_kind="text", verbs=("predict",), quantize=("none", "dynamic"))
    headline = Headline("accuracy", "validation_accuracy", "test_accuracy")

    def recipes(self) -> list[Recipe]:
        return sentiment_recipes.recipes()

    def with_data(self, recipe: Recipe, spec: str | None) -> Recipe:
        recipe = super().with_data(recipe, spec)
        if recipe.data.source != "imdb" and not recipe.data.path:
            raise ZooError(f"--data {recipe.data.source} needs a path: {recipe.data.source}:PATH")
        return recipe

    def check_recipe(self, recipe: Recipe) -> None:
        if recipe.data.phrases and recipe.data.source != "sst2":
            raise ZooError(f"data.phrases reads SST-2's stsa.binary.phrases.train; --data {recipe.data.source} "
                           "has no phrases (use --data sst2:PATH)")

    def count_params(self, recipe: Recipe, meta=None) -> int:
        meta = meta if meta is not None else self.default_meta(recipe)
        return count_params(recipe, len(meta["vocabulary"]), len(meta["labels"]))

    def tiny(self, recipe: Recipe) -> Recipe:
        return apply_overrides(recipe, ["model.units=3", "model.embedding=4", "train.epochs=1", "train.batch_size=8",
                                        "data.max_tokens=12", "train.max_seconds=30"])

    def sample_data(self, folder: Path, recipe: Recipe | None = None) -> str:
        """An SST-2 folder of made-up sentences (each split holds both labels), with a phrases file."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for split, repeats in (("train", 4), ("dev", 1), ("test", 1)):
            lines = [f"{label} {text}" for _ in range(repeats) for label, texts in SAMPLE.items() for text in texts]
            (folder / f"stsa.binary.{split}").write_text("\n".join(lines) + "\n", encoding="utf-8")
        # The phrases file holds each training sentence and its last two words, as a labelled phrase.
        phrases = [f"{label} {part}" for label, texts in SAMPLE.items() for text in texts
                   for part in (text, " ".join(text.split()[-2:]))]
        (folder / "stsa.binary.phrases.train").write_text("\n".join(phrases) + "\n", encoding="utf-8")
        return f"sst2:{folder}"

    def build(self, recipe: Recipe, meta):
        from zoo.families.sentiment.model import build

        return build(recipe, len(meta["vocabulary"]), len(meta["labels"]))

    def default_meta(self, recipe: Recipe):
        """A stand-in: `max_words` words and two labels."""
        return {"vocabulary": WordVocabulary([f"w{i}" for i in range(recipe.data.max_words)]),
                "labels": ["negative", "positive"]}

    def custom_objects(self) -> dict:
        from zoo.nn.adversarial import AdversarialModel

        return {"AdversarialModel": AdversarialModel}

    def save_meta(self, run_dir: Path, meta) -> None:
        meta["vocabulary"].save(Path(run_dir) / VOCAB)
        runs.write_json(Path(run_dir) / LABELS, meta["labels"])

    def load_meta(self, run_dir: Path):
        return {"vocabulary": load_vocabulary(Path(run_dir) / VOCAB),
                "labels": runs.read_json(Path(run_dir) / LABELS)}

    def datasets(self, recipe: Recipe, data_root: Path):
        from zoo.families.sentiment.data import datasets

        return datasets(recipe, data_root)

    def compile_args(self, recipe: Recipe) -> dict:
        import keras

        return dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])

    def final_metrics(self, model, splits, run_dir: Path, recipe: Recipe) -> dict:
        from zoo.families.sentiment.evaluate import final_metrics

        return final_metrics(model, splits, run_dir, recipe)

    def evaluate(self, recipe, model, meta, run_dir, data_root, split, beam: int = 1):
        from zoo.families.sentiment.evaluate import evaluate_run

        return evaluate_run(recipe, model, meta, data_root, split)

    def prepare_export(self, recipe, meta, data_root, quantize):
        from zoo.families.sentiment.export import prepare_export

        return prepare_export(recipe, meta, data_root)

    def export_savedmodel(self, model, recipe, meta, path) -> None:
        from zoo.families.sentiment.export import export_savedmodel

        export_savedmodel(model, recipe, path)

    def export_tflite(self, model, recipe, meta, quantize, context) -> bytes:
        from zoo.families.sentiment.export import export_tflite

        return export_tflite(model, recipe, quantize)

    def check_export(self, model, recipe, meta, path, context) -> dict:
        from zoo.families.sentiment.export import check_export

        return check_export(model, path, context)

    def export_meta(self, recipe, meta) -> dict:
        from zoo.families.sentiment.export import export_meta

        return export_meta(recipe, meta)

    def inference(self, run):
        from zoo.families.sentiment.predict import open_classifier

        return open_classifier(run)

    def gate_input(self, recipe, meta, source: str) -> GateInput:
        """The text itself: one step per word (with `<bos>` and `<eos>`), unpadded."""
        (ids,) = meta["vocabulary"].encode_many([source], recipe.data.max_tokens)
        words = [meta["vocabulary"].words[i] for i in ids]
        return GateInput(batch=np.asarray([ids], np.int32), steps=words, axis="word")

    def annotate_gates(self, model, recipe, meta, gate_input: GateInput) -> GateInput:
        """Each word's effect on the predicted label's probability: the probability with the text as it is,
        minus with that word left out (`<bos>` and `<eos>` are never left out)."""
        ids = gate_input.batch[0]
        variants = np.stack([ids] + [np.concatenate([np.delete(ids, i), [0]]) for i in range(len(ids))])
        logits = np.asarray(model.predict_on_batch(variants), np.float64)
        p = np.exp(logits - logits.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        label = int(p[0].argmax())
        effect = [0.0 if word in SPECIALS else float(p[0, label] - p[1 + i, label])
                  for i, word in enumerate(gate_input.steps)]
        name = f"P({meta['labels'][label]}) = {p[0, label]:.2f}: with each word minus without it"
        return GateInput(gate_input.batch, gate_input.steps, gate_input.axis, track=(name, effect))
