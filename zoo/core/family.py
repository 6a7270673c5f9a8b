"""The family contract: what a model family gives the generic code, and what it can do.

A family is one package under `zoo/families/` with one `Family` subclass. The
generic code (training, evaluation, export, the CLI and `zoo.load`) calls only
the hooks below and reads only `capabilities`; it never tests a family's name.
Hooks that build models, read data or convert import TensorFlow when called,
so listing recipes stays fast.

Adding a family: subclass `Family`, implement every abstract hook, list an
instance in `zoo/families/registry.py`. The contract tests
(`tests/contract/`) then train, save, reload, export and check every recipe of it.

Example:
    >>> caps = Capabilities(input_kind="text", verbs=("generate",))
    >>> caps.quantize, caps.formats
    (('none', 'dynamic'), ('savedmodel', 'tflite'))
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Any

from zoo.core.errors import ZooError
from zoo.core.recipe import Recipe, recipe_from_dict, with_data_source

QUANTIZE_MODES = ("none", "dynamic", "int8")


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a family's models can do; generic code offers only these.

    Attributes:
        input_kind: what its models read at inference: `audio` (wav files or
            waveforms), `text` (a string), `video` (clips: frames, videos or features) or
            `sequence` (numeric sequences: `.npy` or `.csv` files, or arrays).
        verbs: inference verbs of its `zoo.load` objects and CLI commands:
            `predict` (labels for inputs), `generate` (text), `caption` (a sentence per clip).
        formats: export formats: `savedmodel`, `tflite`.
        quantize: LiteRT quantization modes: `none`, `dynamic`, `int8`.
        streams: its models run one input step at a time with the state held
            outside: text generation always; for audio, the recipes whose
            `stream_blocker` is None export a step model (`zoo export --streaming`)
            and listen to recordings of any length (`listen`).
        beam: its outputs are decoded word by word, greedily or by beam search
            (`zoo eval --beam K`).
        distills: its training targets are class probabilities and its models return logits,
            so a run can learn from teacher runs' averaged probabilities (`train.teachers`).
        ensembles: runs of one architecture join into one model that averages their probabilities
            (`zoo ensemble`), which then evaluates, exports and streams like any run.
    """

    input_kind: str
    verbs: tuple[str, ...]
    formats: tuple[str, ...] = ("savedmodel", "tflite")
    quantize: tuple[str, ...] = ("none", "dynamic")
    streams: bool = False
    beam: bool = False
    distills: bool = False
    ensembles: bool = False


@dataclasses.dataclass(frozen=True)
class Headline:
    """The figure a family's runs are judged by (`zoo compare`), as dotted paths into a run's `metrics.json`.

    Attributes:
        name: what it is, for tables (`accuracy`, `bits per character`).
        validation: its path on the validation split, e.g. `validation_accuracy`.
        test: its path on the test split; None when the family holds out no test split.
        higher_is_better: False for losses.
    """

    name: str
    validation: str
    test: str | None
    higher_is_better: bool = True


@dataclasses.dataclass
class Splits:
    """What training needs from a family's data.

    Attributes:
        train: a `tf.data.Dataset` of (input, target) batches.
        validation: the same for validation.
        test: held-out data in the family's own form, for `final_metrics`.
        train_size: examples per epoch.
        meta: what the data decided and the model needs (labels, a vocabulary);
            saved into the run by `save_meta`.
        info: JSON-able facts about the data (sizes, skipped files), saved as `data.json`.
    """

    train: Any
    validation: Any
    test: Any
    train_size: int
    meta: Any
    info: dict


@dataclasses.dataclass
class GateInput:
    """One input prepared for `zoo gates`.

    Attributes:
        batch: the model input, batch of one.
        steps: a label for each time step the recurrent layers see (characters,
            or frame times in seconds).
        axis: what a step is, for the figure's axis (`character` and `word` label every step; others,
            such as `time (s)`, label a few).
        waveform: for audio, (samples, sample_rate) to draw above the gates.
        marks: steps to mark with a line across every panel (the steps a task asks the model to remember).
        track: (name, one value per step) drawn as bars above the gates, e.g. what each word does to the score.
    """

    batch: Any
    steps: list
    axis: str
    waveform: tuple | None = None
    marks: tuple[int, ...] = ()
    track: tuple[str, list] | None = None


class Family(abc.ABC):
    """Base class of a model family: its recipes, data, model, evaluation, export and inference.

    Class attributes:
        name: the family's name, the first word of its recipe names.
        title: what it does, in words (for messages).
        model_config, data_config: its recipe sections' dataclasses.
        sources: the `--data KIND` values it reads.
        monitor, monitor_mode: the validation metric that picks the best checkpoint.
        capabilities: what its models can do.
        headline: the figure its runs are judged by.
    """

    name: str
    title: str
    model_config: type
    data_config: type
    sources: tuple[str, ...]
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    capabilities: Capabilities
    headline: Headline

    # -- recipes ---------------------------------------------------------------

    @abc.abstractmethod
    def recipes(self) -> list[Recipe]:
        """The family's named recipes (task_arch_size_dataset)."""

    def recipe_from_dict(self, d: dict) -> Recipe:
        """A recipe saved with `Recipe.to_dict` (a run's `recipe.json`)."""
        return recipe_from_dict(d, self.model_config, self.data_config)

    def with_data(self, recipe: Recipe, spec: str | None) -> Recipe:
        """Applies `--data KIND[:PATH]` to the recipe's data section."""
        return with_data_source(recipe, spec, self.sources, self.title)

    def check_recipe(self, recipe: Recipe) -> None:
        """Raises ZooError when fields that are each valid do not fit together (a frame longer than the clip,
        say). Each field alone is checked by its type, choices and range (`zoo.core.recipe.check_values`);
        training calls this after that, before any data is read."""
        return None

    @abc.abstractmethod
    def count_params(self, recipe: Recipe, meta=None) -> int:
        """The model's parameter count for `meta` (default: `default_meta`), computed without building it."""

    @abc.abstractmethod
    def tiny(self, recipe: Recipe) -> Recipe:
        """The same recipe at test size (a few units, a few steps), for the contract tests."""

    @abc.abstractmethod
    def sample_data(self, folder: Path, recipe: Recipe | None = None) -> str:
        """Writes a small data set of the family's kind into `folder` (no network); returns the `--data`
        spec `recipe` reads it with (one folder may serve every recipe of the family)."""

    # -- model and metadata ----------------------------------------------------

    @abc.abstractmethod
    def build(self, recipe: Recipe, meta) -> Any:
        """The Keras model for `recipe`, given the data's `meta` (labels, vocabulary)."""

    @abc.abstractmethod
    def default_meta(self, recipe: Recipe) -> Any:
        """A stand-in `meta` for building a recipe before any data is read."""

    @abc.abstractmethod
    def save_meta(self, run_dir: Path, meta) -> None:
        """Writes `meta` into the run directory."""

    @abc.abstractmethod
    def load_meta(self, run_dir: Path) -> Any:
        """Reads what `save_meta` wrote."""

    def custom_objects(self) -> dict:
        """Custom Keras classes its saved models use (for safe-mode loading)."""
        return {}

    # -- training and evaluation -----------------------------------------------

    @abc.abstractmethod
    def datasets(self, recipe: Recipe, data_root: Path) -> Splits:
        """Training and validation pipelines, held-out data and `meta`, from the recipe's data."""

    def callbacks(self, recipe: Recipe, splits: Splits) -> list:
        """Keras callbacks of its own, run before checkpointing at every epoch's end (they may add the
        `monitor` metric to the logs, from real decoding say). Default: none."""
        return []

    @abc.abstractmethod
    def compile_args(self, recipe: Recipe) -> dict:
        """Loss and metrics for `model.compile` (the optimizer is the trainer's)."""

    @abc.abstractmethod
    def final_metrics(self, model, splits: Splits, run_dir: Path, recipe: Recipe) -> dict:
        """Metrics of the best checkpoint after training (and the family's plots)."""

    @abc.abstractmethod
    def evaluate(self, recipe: Recipe, model, meta, run_dir: Path, data_root: Path,
                 split: str | None, beam: int = 1) -> tuple[dict, str]:
        """(`zoo eval` result, a tag naming the data and split for its file names); `beam` is the
        beam width for families whose capabilities declare `beam`."""

    def ensemble(self, recipes: list[Recipe], models: list, meta, names: list[str]) -> tuple[Recipe, Any]:
        """(recipe, model) of one model averaging `models`' probabilities, for families whose capabilities
        declare `ensembles`. `recipes` are the members' (same labels `meta`); `names` name them in errors
        (a member that does not fit the first is a one-line error)."""
        raise ZooError(f"{self.title} models cannot be joined into an ensemble")

    # -- export ----------------------------------------------------------------

    @abc.abstractmethod
    def prepare_export(self, recipe: Recipe, meta, data_root: Path, quantize: str) -> Any:
        """Loads once what both the conversion and its check need (calibration and check data)."""

    @abc.abstractmethod
    def export_savedmodel(self, model, recipe: Recipe, meta, path: Path) -> None:
        """Writes a SavedModel of the exported model to `path`."""

    @abc.abstractmethod
    def export_tflite(self, model, recipe: Recipe, meta, quantize: str, context) -> bytes:
        """The exported model as builtins-only LiteRT bytes."""

    @abc.abstractmethod
    def check_export(self, model, recipe: Recipe, meta, path: Path, context) -> dict:
        """Compares the written export with the Keras model; returns the figures for `export.json`."""

    @abc.abstractmethod
    def export_meta(self, recipe: Recipe, meta) -> dict:
        """The JSON sidecar an export carries (everything inference needs; `family` included)."""

    # -- inference ---------------------------------------------------------------

    @abc.abstractmethod
    def inference(self, run) -> Any:
        """The object `zoo.load` returns for a loaded model (`zoo.core.litert.Loaded`);
        it has the methods named in `capabilities.verbs`."""

    @abc.abstractmethod
    def gate_input(self, recipe: Recipe, meta, source: str) -> GateInput:
        """Prepares one input for `zoo gates`: a wav path for audio, the text itself for text."""

    def annotate_gates(self, model, recipe: Recipe, meta, gate_input: GateInput) -> GateInput:
        """`gate_input` with what the model makes of it added for the figure (a `track`); default: as it is."""
        return gate_input

    # -- streaming step models (`zoo export --streaming`, `zoo eval --stream`) ------

    def stream_blocker(self, recipe: Recipe) -> str | None:
        """Why `recipe`'s model cannot be exported as a streaming step model; None when it can."""
        return f"{self.name} models have no streaming step export"

    def export_stream_savedmodel(self, model, recipe: Recipe, meta, path: Path) -> None:
        """Writes the streaming step model as a SavedModel (`serving_default` is one step)."""
        raise ZooError(self.stream_blocker(recipe) or "no streaming export")

    def export_stream_tflite(self, model, recipe: Recipe, meta, quantize: str, context) -> bytes:
        """The streaming step model as builtins-only LiteRT bytes (no WHILE loop)."""
        raise ZooError(self.stream_blocker(recipe) or "no streaming export")

    def stream_meta(self, model, recipe: Recipe, meta) -> dict:
        """The sidecar of a streaming export: `export_meta` plus the hop and the state tensors."""
        raise ZooError(self.stream_blocker(recipe) or "no streaming export")

    def check_stream(self, model, recipe: Recipe, meta, path: Path, context) -> dict:
        """Compares a streaming export, stepped hop by hop, with the Keras model on whole clips."""
        raise ZooError(self.stream_blocker(recipe) or "no streaming export")

    def evaluate_stream(self, run, recording: Path, truth: Path, out_dir: Path, **options) -> dict:
        """Detection on a long recording against its true events (`zoo eval --stream`); `run` is a
        `zoo.core.load.Loaded`, `options` the family's detector settings. Writes its plots into `out_dir`."""
        raise ZooError(f"{self.name} models do not detect events in long recordings")

    # -- checks the generic code makes -----------------------------------------

    def require_stream(self, recipe: Recipe) -> None:
        """Raises a one-line error unless `recipe`'s model can be exported as a streaming step."""
        reason = self.stream_blocker(recipe)
        if reason:
            raise ZooError(f"{recipe.name} cannot stream: {reason}")

    def require_quantize(self, quantize: str, fmt: str) -> None:
        """Raises a one-line error unless this family exports `fmt` with `quantize`."""
        caps = self.capabilities
        if fmt not in caps.formats:
            raise ZooError(f"{self.name} models export as {' or '.join(caps.formats)}, not {fmt}")
        if fmt == "savedmodel" and quantize != "none":
            raise ZooError("--quantize applies to --format tflite only")
        if quantize not in caps.quantize:
            raise ZooError(f"{self.name} models export with --quantize {' or '.join(caps.quantize)}, "
                           f"not {quantize}")

    def require_beam(self, beam: int) -> None:
        """Raises a one-line error unless a beam width of `beam` applies to this family's models."""
        if beam < 1:
            raise ZooError(f"--beam {beam}: the beam width is 1 (greedy) or more")
        if beam > 1 and not self.capabilities.beam:
            raise ZooError(f"--beam applies to models that decode word by word; {self.name} models do not")

    def require_verb(self, verb: str, source: Path) -> None:
        """Raises a one-line error unless this family's models do `verb`."""
        if verb not in self.capabilities.verbs:
            raise ZooError(f"{source}: a {self.name} model does {', '.join(self.capabilities.verbs)}, "
                           f"not {verb}")
