"""Named recipes: typed frozen dataclasses in one explicit registry.

A recipe has three sections, `model`, `data` and `train`. `train` is shared by
every family; `model` and `data` are dataclasses of the family's own. Variants
are derived with `dataclasses.replace`, never copied.

Example:
    >>> TrainConfig().epochs
    40
"""

from __future__ import annotations

import ast
import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from zoo.core.errors import ZooError

# Where a recipe trains, not what it trains: `zoo train --strategy` (see zoo.core.distributed).
STRATEGIES = ("auto", "one", "mirrored", "multiworker")


@dataclass(frozen=True)
class Range:
    """The values a numeric recipe field may take, declared as `typing.Annotated[int, Range(1)]`: `--set` and
    `check_values` refuse the others in one line, before anything is built or written.

    Example:
        >>> Range(0.0, 1.0, high_open=True).admits(1.0), Range(0.0, 1.0, high_open=True).describe()
        (False, 'in [0.0, 1.0)')
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def admits(self, value) -> bool:
        low_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        return low_ok and (self.high is None or (value < self.high if self.high_open else value <= self.high))

    def describe(self) -> str:
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        return f"in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"


@dataclass(frozen=True)
class Span:
    """A `(low, high)` pair of a recipe field, declared as `typing.Annotated[tuple[float, float], Span(...)]`:
    low <= high, and each within `each`.

    Example:
        >>> Span(Range(0.0, low_open=True)).problem((1.2, 0.8))
        'the first must not exceed the second'
    """

    each: Range = Range()

    def problem(self, pair) -> str | None:
        """Why `pair` is not a span of this kind (None if it is)."""
        if not all(self.each.admits(v) for v in pair):
            return f"each must be {self.each.describe()}"
        return "the first must not exceed the second" if pair[0] > pair[1] else None


# The ranges the recipe sections' fields use.
PositiveInt = typing.Annotated[int, Range(1)]  # sizes and counts that cannot be zero: units, layers, epochs
NonNegativeInt = typing.Annotated[int, Range(0)]  # counts where 0 means none (or off)
Positive = typing.Annotated[float, Range(0.0, low_open=True)]  # a rate or a length: learning rate, frame size
NonNegative = typing.Annotated[float, Range(0.0)]  # 0 means off: weight decay, clip norm, a time budget
Fraction = typing.Annotated[float, Range(0.0, 1.0, high_open=True)]  # dropout, a momentum, a held-out share
Share = typing.Annotated[float, Range(0.0, 1.0)]  # a probability or a mixing weight, 1 included
Percent = typing.Annotated[float, Range(0.0, 100.0)]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by every family.

    Attributes:
        epochs: maximum number of passes over the training set.
        batch_size: examples per step.
        learning_rate: peak learning rate of the schedule.
        schedule: `constant`, `cosine` (one cosine decay over all epochs, with warm-up) or
            `time_cosine` (the same over `max_seconds` of wall-clock time, for
            equal-time comparisons: the run ends annealed whatever the budget).
        warmup_epochs: linear warm-up length, in epochs (may be fractional).
        weight_decay: decoupled weight decay of AdamW.
        label_smoothing: for classification losses.
        clipnorm: global gradient-norm clip (0 disables).
        patience: stop after this many epochs without improving the monitored metric
            (0 disables early stopping).
        max_seconds: wall-clock budget for training; 0 means none. The best
            checkpoint so far is kept.
        seed: seeds Python, NumPy and TensorFlow.
        steps_per_epoch: 0 means one pass over the training set.
        ema: momentum of an exponential moving average of the weights (Polyak averaging),
            which is what is validated and checkpointed; 0 disables it.
        deterministic: TensorFlow's op determinism, so the same seed on the same machine gives
            the same weights (slower; `bench/determinism.py` measures by how much).
        teachers: run directories of trained models of the same family and labels; their
            averaged probabilities are mixed into every training target (`zoo.core.distill`).
        teacher_weight: the teachers' share of the target (1 - it stays the true label's).
        keep: which weights the run keeps as its model: `best` (the epoch best on the family's
            validation metric; the first of equals) or `last` (the last epoch's, after the whole
            schedule: for a metric that saturates and so picks an early, unannealed epoch).
    """

    epochs: PositiveInt = 40
    batch_size: PositiveInt = 64
    learning_rate: Positive = 3e-3
    schedule: typing.Literal["constant", "cosine", "time_cosine"] = "cosine"
    warmup_epochs: NonNegative = 1.0
    weight_decay: NonNegative = 1e-4
    label_smoothing: Fraction = 0.0
    clipnorm: NonNegative = 5.0
    patience: NonNegativeInt = 0
    max_seconds: NonNegative = 0.0
    seed: typing.Annotated[int, Range(0, 2**32 - 1)] = 0
    steps_per_epoch: NonNegativeInt = 0
    ema: Fraction = 0.0
    deterministic: bool = False
    teachers: tuple[str, ...] = ()
    teacher_weight: Share = 0.8
    keep: typing.Literal["best", "last"] = "best"


@dataclass(frozen=True)
class Recipe:
    """A named, fully specified training job.

    Attributes:
        name: task_arch_size_dataset: the task, the cell, the size (s, m) and the data set.
        family: the name of the family that builds, trains and exports it.
        description: one line for `zoo list`.
        model: the family's model dataclass.
        data: the family's data dataclass.
        train: shared optimisation settings.
    """

    name: str
    family: str
    description: str
    model: typing.Any
    data: typing.Any
    train: TrainConfig = field(default_factory=TrainConfig)

    SECTIONS = ("model", "data", "train")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


class Registry:
    """An explicit, ordered collection of recipes; names are unique."""

    def __init__(self, recipes=()):
        self._recipes: dict[str, Recipe] = {}
        for recipe in recipes:
            self.register(recipe)

    def register(self, recipe: Recipe) -> Recipe:
        if recipe.name in self._recipes:
            raise ValueError(f"recipe {recipe.name!r} is registered twice")
        self._recipes[recipe.name] = recipe
        return recipe

    def get(self, name: str) -> Recipe:
        try:
            return self._recipes[name]
        except KeyError:
            known = ", ".join(sorted(self._recipes))
            raise ZooError(f"unknown recipe {name!r}; known recipes: {known}") from None

    def names(self) -> list[str]:
        return list(self._recipes)

    def __iter__(self):
        return iter(self._recipes.values())

    def __len__(self):
        return len(self._recipes)


def _is_choice(value, choices) -> bool:
    return any(type(value) is type(c) and value == c for c in choices)  # True is not 1


def _check_type(value, annotation, key: str):
    """Returns `value` converted to `annotation` or raises ZooError."""
    origin = typing.get_origin(annotation)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            raise ZooError(f"--set {key}: expected a tuple, got {value!r}")
        args = typing.get_args(annotation)
        item_type = args[0] if args else typing.Any
        if len(args) == 2 and args[1] is Ellipsis or len(args) == 1:
            return tuple(_check_type(v, item_type, key) for v in value)
        if len(args) != len(value):
            raise ZooError(f"--set {key}: expected {len(args)} items, got {value!r}")
        return tuple(_check_type(v, a, key) for v, a in zip(value, args))
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            try:
                return _check_type(value, arg, key)
            except ZooError:
                pass
        raise ZooError(f"--set {key}: {value!r} is not {annotation}")
    if annotation is typing.Any:
        return value
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if not _is_choice(value, choices):
            raise ZooError(f"--set {key}: {value!r} is not one of {', '.join(map(repr, choices))}")
        return value
    if isinstance(annotation, type):
        if annotation is not bool and isinstance(value, bool):
            raise ZooError(f"--set {key}: expected {annotation.__name__}, got {value!r}")
        if not isinstance(value, annotation):
            raise ZooError(
                f"--set {key}: expected {annotation.__name__}, got {type(value).__name__} {value!r}"
            )
    return value


def _bounds_problem(hint, value) -> str | None:
    """Why `value` is outside the `Range` or `Span` its field's `Annotated` hint declares (None if it is not)."""
    for bound in (hint.__metadata__ if typing.get_origin(hint) is typing.Annotated else ()):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(bound, Range) and not (number and bound.admits(value)):
            return f"must be {bound.describe()}"
        if isinstance(bound, Span):
            return bound.problem(value) if isinstance(value, tuple) and len(value) == 2 else "must be a pair"
    return None


def check_values(recipe: Recipe) -> None:
    """Raises ZooError if a field of any section holds a value outside its `Literal` choices, its `Range` or its
    `Span`.

    `--set` checks each value it parses; this checks a recipe however it was made (the Python
    API, an edited `recipe.json`), before training writes anything.
    """
    for section in Recipe.SECTIONS:
        config = getattr(recipe, section)
        for name, hint in typing.get_type_hints(type(config), include_extras=True).items():
            value = getattr(config, name)
            bare = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
            if typing.get_origin(bare) is typing.Literal:
                choices = typing.get_args(bare)
                if not _is_choice(value, choices):
                    raise ZooError(f"{section}.{name}={value!r}: choose one of {', '.join(map(repr, choices))}")
            problem = _bounds_problem(hint, value)
            if problem:
                raise ZooError(f"{section}.{name}={value!r}: {problem}")


def parse_override(text: str) -> tuple[str, str, typing.Any]:
    """Splits `section.field=value`; the value is a Python literal (or a bare string)."""
    key, sep, raw = text.partition("=")
    if not sep or "." not in key:
        raise ZooError(f"--set {text!r}: expected section.field=value, e.g. train.epochs=3")
    section, _, name = key.strip().partition(".")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = raw.strip()  # a bare word such as gru is taken as a string
    return section, name, value


def apply_overrides(recipe: Recipe, overrides: typing.Iterable[str]) -> Recipe:
    """Returns a copy of `recipe` with `section.field=value` overrides applied.

    Values are parsed with `ast.literal_eval` and checked against the field's
    declared type; an unknown section or field raises ZooError listing the
    valid ones.

    Example:
        >>> from dataclasses import make_dataclass
        >>> Model = make_dataclass("Model", [("units", int, 64)], frozen=True)
        >>> r = Recipe("demo_gru_s_x", "demo", "a demo", Model(), Model())
        >>> r = apply_overrides(r, ["train.epochs=3", "model.units=8"])
        >>> r.train.epochs, r.model.units
        (3, 8)
    """
    for text in overrides:
        section, name, value = parse_override(text)
        if section not in Recipe.SECTIONS:
            raise ZooError(
                f"--set {text!r}: unknown section {section!r}; valid: {', '.join(Recipe.SECTIONS)}"
            )
        config = getattr(recipe, section)
        hints = typing.get_type_hints(type(config))
        names = [f.name for f in dataclasses.fields(config)]
        if name not in names:
            valid = ", ".join(f"{section}.{n}" for n in names)
            raise ZooError(f"--set {text!r}: unknown key {section}.{name}; valid keys: {valid}")
        value = _check_type(value, hints[name], f"{section}.{name}")
        problem = _bounds_problem(typing.get_type_hints(type(config), include_extras=True)[name], value)
        if problem:
            raise ZooError(f"--set {section}.{name}={value!r}: {problem}")
        recipe = dataclasses.replace(recipe, **{section: dataclasses.replace(config, **{name: value})})
    return recipe


def recipe_from_dict(d: dict, model_cls, data_cls) -> Recipe:
    """Rebuilds a recipe saved with `Recipe.to_dict` (tuples restored from JSON lists)."""

    def build(cls, values):
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {
            k: _check_type(v, hints[k], k) if isinstance(v, list) else v
            for k, v in values.items() if k in known
        }
        return cls(**kwargs)

    return Recipe(
        name=d["name"], family=d["family"], description=d["description"],
        model=build(model_cls, d["model"]), data=build(data_cls, d["data"]),
        train=build(TrainConfig, d["train"]),
    )


def with_data_source(recipe: Recipe, spec: str | None, sources, task: str) -> Recipe:
    """Applies `--data KIND[:PATH]` to the recipe's data section (`source`, `path`).

    Example:
        >>> from dataclasses import make_dataclass
        >>> Data = make_dataclass("Data", [("source", str, "tts"), ("path", str, "")], frozen=True)
        >>> r = with_data_source(Recipe("demo_gru_s_x", "demo", "", None, Data()), "folder:/tmp/x", ("folder",), "demo")
        >>> r.data.source, r.data.path
        ('folder', '/tmp/x')
    """
    if not spec:
        return recipe
    kind, _, path = spec.partition(":")
    path = str(Path(path).expanduser().resolve()) if path else ""
    if kind not in sources:
        raise ZooError(f"--data {spec!r}: unknown kind {kind!r} for {task}; known: {', '.join(sources)}")
    return dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, source=kind, path=path))


def overrides_between(recipe: Recipe, base: Recipe) -> list[str]:
    """`--set` strings that turn `base` into `recipe` (their sections' differing fields), e.g. to run a
    changed recipe through the command line.

    Example:
        >>> base = Recipe("r", "f", "", model=TrainConfig(), data=TrainConfig())
        >>> overrides_between(dataclasses.replace(base, train=TrainConfig(epochs=3)), base)
        ['train.epochs=3']
    """
    out = []
    for section in ("model", "data", "train"):
        ours, theirs = getattr(recipe, section), getattr(base, section)
        for item in dataclasses.fields(ours):
            if getattr(ours, item.name) != getattr(theirs, item.name):
                out.append(f"{section}.{item.name}={getattr(ours, item.name)!r}")
    return out
