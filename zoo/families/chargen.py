"""Character-level text generation: characters -> Embedding -> RNN/LSTM/GRU stack -> next-character logits.

Training sees windows of the corpus with next-character targets; generation
and the exported LiteRT model run one character per step and carry the
recurrent state (`step_function`), so a prefix is never re-run.

Example:
    >>> from zoo.data.text import Vocabulary
    >>> from zoo.families import registry
    >>> recipe = registry().get("chargen_gru_s_pydocs")
    >>> model = build(recipe, Vocabulary(list("abc")))
    >>> model.output_shape
    (None, None, 4)
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.data import text as text_data
from zoo.data.text import Vocabulary
from zoo.errors import ZooError
from zoo.recipes import Recipe, TrainConfig, with_data_source

NAME = "chargen"
SOURCES = ("pydocs", "shakespeare", "text")
LN2 = math.log(2.0)


@dataclass(frozen=True)
class ChargenModel:
    """Attributes:
        cell: `rnn`, `lstm` or `gru`.
        units: state size of each recurrent layer.
        layers: stacked recurrent layers.
        embedding: character embedding width.
        dropout: after the embedding and after each recurrent layer (training only).
    """

    cell: str = "gru"
    units: int = 256
    layers: int = 1
    embedding: int = 64
    dropout: float = 0.0


@dataclass(frozen=True)
class ChargenData:
    """Attributes:
        source: `pydocs` (built in), `shakespeare` or `text` (a file or folder).
        path: file or folder for `text`; a local copy for `shakespeare` (else downloaded).
        encoding: the text's encoding.
        validation_fraction: the last part of the corpus held out, in order.
        seq_len: characters per training window (backpropagation through time).
    """

    source: str = "pydocs"
    path: str = ""
    encoding: str = "utf-8"
    validation_fraction: float = 0.1
    seq_len: int = 128


MODEL_CONFIG, DATA_CONFIG = ChargenModel, ChargenData

_PYDOCS = ChargenData(source="pydocs", seq_len=64)
_SHAKESPEARE = ChargenData(source="shakespeare", seq_len=64)
# Many small updates (32 windows of 64 characters) beat few large ones on a 2-core
# CPU, and the learning rate follows a cosine over the wall-clock budget, so a run
# ends annealed whatever `train.max_seconds` is (see the model cards).
_TIMED = TrainConfig(epochs=100_000, batch_size=32, learning_rate=5e-3, schedule="time_cosine",
                     weight_decay=0.0, clipnorm=1.0, max_seconds=190.0, steps_per_epoch=100)


def recipes() -> list[Recipe]:
    """The family's named recipes (task_arch_size_dataset)."""
    small = ChargenModel(cell="gru", units=256, layers=1, embedding=64)
    medium = ChargenModel(cell="gru", units=512, layers=1, embedding=64, dropout=0.1)
    timed_m = dataclasses.replace(_TIMED, learning_rate=3e-3, max_seconds=900.0)
    gru_s = Recipe("chargen_gru_s_shakespeare", NAME, "Tiny Shakespeare, GRU 256, 190-second budget",
                   small, _SHAKESPEARE, _TIMED)
    gru_m = Recipe("chargen_gru_m_shakespeare", NAME, "Tiny Shakespeare, GRU 512, 15-minute budget",
                   medium, _SHAKESPEARE, timed_m)
    return [
        Recipe("chargen_gru_s_pydocs", NAME, "characters of Python's reference docs (built in, offline), GRU 256",
               small, _PYDOCS, dataclasses.replace(_TIMED, max_seconds=300.0)),
        gru_s,
        gru_m,
        dataclasses.replace(gru_m, name="chargen_lstm_m_shakespeare",
                            description="Tiny Shakespeare, LSTM 512, 15-minute budget",
                            model=dataclasses.replace(medium, cell="lstm")),
        dataclasses.replace(gru_m, name="chargen_rnn_m_shakespeare",
                            description="Tiny Shakespeare, plain RNN 512 (the baseline LSTM/GRU improved on)",
                            model=dataclasses.replace(medium, cell="rnn")),
    ]


# ----------------------------------------------------------------------------- model

def build(recipe: Recipe, vocab: Vocabulary):
    """The training model: ids [B, T] -> logits [B, T, len(vocab)] (fresh state per window)."""
    import keras

    from zoo.layers.recurrent import recurrent_layer

    m = recipe.model
    ids = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(len(vocab), m.embedding, name="embedding")(ids)
    if m.dropout:
        x = keras.layers.Dropout(m.dropout, name="dropout0")(x)
    for i in range(m.layers):
        x = recurrent_layer(m.cell, m.units, return_sequences=True, name=f"{m.cell}{i + 1}")(x)
        if m.dropout:
            x = keras.layers.Dropout(m.dropout, name=f"dropout{i + 1}")(x)
    logits = keras.layers.Dense(len(vocab), name="logits")(x)
    return keras.Model(ids, logits, name=recipe.name)


def state_size(recipe: Recipe) -> int:
    """Width of the packed recurrent state: h (and c for LSTM) of every layer, concatenated."""
    m = recipe.model
    return m.layers * m.units * (2 if m.cell == "lstm" else 1)


def _stack(model, recipe: Recipe, sequence: bool):
    """The trained layers as one function (ids, packed state) -> (logits, packed state).

    `sequence=False` steps each cell once (ids [B]); `sequence=True` runs each
    cell over a window (ids [B, T]) through `keras.layers.RNN` wrappers that
    share the cells' weights. The state packs every layer's h (and c) side by side.
    """
    import keras
    from keras import ops

    m = recipe.model
    cells = [model.get_layer(f"{m.cell}{i + 1}").cell for i in range(m.layers)]
    embedding, dense = model.get_layer("embedding"), model.get_layer("logits")
    per_layer = 2 if m.cell == "lstm" else 1
    rnns = [keras.layers.RNN(cell, return_sequences=True, return_state=True) for cell in cells] if sequence else []

    def run(ids, state):
        x = embedding(ids)
        pieces = ops.split(state, m.layers * per_layer, axis=-1) if m.layers * per_layer > 1 else [state]
        new = []
        for i, cell in enumerate(cells):
            states = list(pieces[i * per_layer:(i + 1) * per_layer])
            if sequence:
                x, *states = rnns[i](x, initial_state=states)
            else:
                x, states = cell(x, states)
            new.extend(states)
        return dense(x), ops.concatenate(new, axis=-1) if len(new) > 1 else new[0]

    return run


def step_function(model, recipe: Recipe):
    """(ids [B], state [B, S]) -> (logits [B, V], state [B, S]): one character, state carried.

    The recurrent cells of `model` (shared weights) step once per call; the
    state packs every layer's h (and c) side by side. Traceable by
    `tf.function` and convertible to builtins-only LiteRT (no loop).
    """
    return _stack(model, recipe, sequence=False)


def sequence_function(model, recipe: Recipe):
    """(ids [B, T], state [B, S]) -> (logits [B, T, V], state): a window, state carried in and out."""
    return _stack(model, recipe, sequence=True)


# ----------------------------------------------------------------------------- data

def parse_data_spec(spec: str | None, recipe: Recipe) -> Recipe:
    """Applies `--data KIND[:PATH]` to the recipe's data section."""
    recipe = with_data_source(recipe, spec, SOURCES, "text generation")
    if recipe.data.source == "text" and not recipe.data.path:
        raise ZooError("--data text needs a path: text:FILE_OR_FOLDER")
    return recipe


def load_text(recipe: Recipe, data_root: Path) -> tuple[str, list[str]]:
    """The recipe's corpus and the files skipped in it."""
    d = recipe.data
    if d.source == "pydocs":
        return text_data.pydocs_text(), []
    if d.source == "shakespeare":
        return text_data.decode_file(text_data.shakespeare_path(d.path, data_root), d.encoding), []
    if d.source == "text":
        return text_data.read_corpus(Path(d.path), d.encoding)
    raise ZooError(f"data.source={d.source!r}: choose one of {', '.join(SOURCES)}")


def split_text(recipe: Recipe, data_root: Path) -> tuple[str, str, list[str]]:
    text, skipped = load_text(recipe, data_root)
    if not 0.0 < recipe.data.validation_fraction < 1.0:
        raise ZooError("data.validation_fraction must be between 0 and 1")
    train, validation = text_data.split(text, recipe.data.validation_fraction)
    return train, validation, skipped


@dataclass
class Splits:
    """What training needs: tf.data pipelines, sizes and the vocabulary."""

    train: object
    validation: object
    test: tuple          # (validation ids, ) for the final stateful score
    train_size: int      # windows per epoch
    labels: Vocabulary
    info: dict


def datasets(recipe: Recipe, data_root: Path) -> Splits:
    """Random training windows and contiguous validation windows, encoded with a vocabulary of the training text."""
    import tensorflow as tf

    d, t = recipe.data, recipe.train
    train_text, val_text, skipped = split_text(recipe, data_root)
    vocab = Vocabulary.from_text(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    steps = t.steps_per_epoch or max(1, len(train_ids) // (d.seq_len * t.batch_size))
    train = text_data.random_windows(train_ids, d.seq_len, t.batch_size, steps, t.seed)
    vx, vy = text_data.contiguous_windows(val_ids, d.seq_len)
    validation = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(t.batch_size).cache()
    info = {"source": d.source, "path": d.path, "characters": {"train": len(train_ids), "validation": len(val_ids)},
            "vocabulary": len(vocab), "unknown_in_validation": int(np.sum(val_ids == 0)),
            "skipped_files": len(skipped), "skipped": skipped[:20]}
    return Splits(train, validation, (val_ids,), steps * t.batch_size, vocab, info)


# ----------------------------------------------------------------------------- training hooks

MONITOR, MONITOR_MODE = "val_loss", "min"


def compile_args(recipe: Recipe) -> dict:
    import keras

    return dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def default_meta(recipe: Recipe) -> Vocabulary:
    """A stand-in vocabulary (printable ASCII and newline) for counting parameters."""
    return Vocabulary(["\n"] + [chr(c) for c in range(32, 127)])


def custom_objects() -> dict:
    return {}


def save_meta(run_dir: Path, vocab: Vocabulary) -> None:
    vocab.save(Path(run_dir) / "vocab.json")


def load_meta(run_dir: Path) -> Vocabulary:
    return Vocabulary.load(Path(run_dir) / "vocab.json")


def score(model, recipe: Recipe, ids: np.ndarray, streams: int = 64, chunk: int = 512) -> dict:
    """Loss over every character of `ids`, state carried from chunk to chunk.

    The text is cut into `streams` parallel contiguous streams, each read from
    its start with the state carried throughout, so every character is
    predicted from all the text before it in its stream.
    """
    import tensorflow as tf

    x, y = text_data.streams(ids, streams)
    run = tf.function(sequence_function(model, recipe), reduce_retracing=True)
    state = tf.zeros((x.shape[0], state_size(recipe)))
    total = 0.0
    for start in range(0, x.shape[1], chunk):
        logits, state = run(tf.constant(x[:, start:start + chunk]), state)
        total += float(tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
            y[:, start:start + chunk], logits)))
    loss = total / y.size
    return {"characters": int(y.size), "loss_nats": round(loss, 4), "bits_per_char": round(loss / LN2, 4)}


def final_metrics(model, splits: Splits, run_dir: Path, recipe: Recipe) -> dict:
    """Validation loss of the best checkpoint: per window (as in training) and with the state carried."""
    windows = model.evaluate(splits.validation, verbose=0, return_dict=True)
    full = score(model, recipe, splits.test[0])
    sample = "".join(Generator.from_keras(model, recipe, splits.labels).stream("\n", 300, temperature=0.8, seed=0))
    (Path(run_dir) / "sample.txt").write_text(sample, encoding="utf-8")
    return {"validation_loss": round(float(windows["loss"]), 4),
            "validation_bits_per_char": round(float(windows["loss"]) / LN2, 4),
            "validation_window": recipe.data.seq_len,
            "validation_stateful": full,
            "vocabulary": len(splits.labels)}


# ----------------------------------------------------------------------------- evaluation

def evaluate_run(recipe: Recipe, model, vocab: Vocabulary, run_dir: Path, data_root: Path,
                 split: str | None) -> tuple[dict, str]:
    """Loss and bits per character of the run's model on a text (`zoo eval`)."""
    train_text, val_text, skipped = split_text(recipe, data_root)
    text = {"train": train_text, "validation": val_text, "test": val_text}.get(split, train_text + val_text)
    ids = vocab.encode(text)
    result = score(model, recipe, ids)
    xw, yw = text_data.contiguous_windows(ids, recipe.data.seq_len)
    windows = model.evaluate(xw, yw, batch_size=64, verbose=0, return_dict=True)
    result.update(window_loss_nats=round(float(windows["loss"]), 4), window=recipe.data.seq_len,
                  window_bits_per_char=round(float(windows["loss"]) / LN2, 4),
                  unknown_characters=int(np.sum(ids == 0)), skipped_files=len(skipped))
    return result, f"{recipe.data.source}_{'validation' if split == 'test' else split or 'all'}"


# ----------------------------------------------------------------------------- generation

def sample_id(logits: np.ndarray, rng: np.random.Generator, temperature: float, top_k: int) -> int:
    """One id from `logits`: greedy at temperature 0, else softmax(logits / T) over the top k."""
    logits = np.asarray(logits, np.float64)
    if temperature <= 0:
        return int(np.argmax(logits))
    z = logits / temperature
    if 0 < top_k < len(z):
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    p = np.exp(z - z.max())
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(z) - 1))


class Generator:
    """Samples text one character at a time from any step function with the same signature."""

    def __init__(self, step, vocab: Vocabulary, state_width: int):
        self.step = step          # (ids int32 [1], state float32 [1, S]) -> (logits [1, V], state)
        self.vocab = vocab
        self.state_width = state_width

    @classmethod
    def from_keras(cls, model, recipe: Recipe, vocab: Vocabulary) -> Generator:
        import tensorflow as tf

        fn = tf.function(step_function(model, recipe))
        width = state_size(recipe)

        def step(ids, state):
            logits, state = fn(tf.constant(ids), tf.constant(state))
            return logits.numpy(), state.numpy()

        return cls(step, vocab, width)

    @classmethod
    def from_litert(cls, path: Path, meta: dict) -> Generator:
        from zoo import runtime

        runner = runtime.open_interpreter(path).get_signature_runner()

        def step(ids, state):
            out = runner(ids=ids, state=state)
            return out["logits"], out["state"]

        return cls(step, Vocabulary.from_json(meta["vocabulary"]), meta["state_size"])

    @classmethod
    def from_savedmodel(cls, path: Path, meta: dict) -> Generator:
        import tensorflow as tf

        fn = tf.saved_model.load(str(path)).signatures["serving_default"]

        def step(ids, state):
            out = fn(ids=tf.constant(ids), state=tf.constant(state))
            return out["logits"].numpy(), out["state"].numpy()

        return cls(step, Vocabulary.from_json(meta["vocabulary"]), meta["state_size"])

    def chars_per_s(self, count: int, warmup: int = 0) -> float:
        """Generation speed: characters per second over `count` steps (after `warmup` steps)."""
        if warmup:
            list(self.stream("\n", warmup, seed=1))
        start = time.perf_counter()
        n = sum(1 for _ in self.stream("\n", count, seed=1 if not warmup else 2))
        return round(n / (time.perf_counter() - start), 1)

    def stream(self, prime: str = "\n", length: int = 500, temperature: float = 1.0, top_k: int = 0,
               seed: int = 0):
        """Yields `length` generated characters after reading `prime` (state carried throughout)."""
        rng = np.random.default_rng(seed)
        state = np.zeros((1, self.state_width), np.float32)
        ids = self.vocab.encode(prime or "\n")
        logits = None
        for i in ids:
            logits, state = self.step(np.array([i], np.int32), state)
        for _ in range(length):
            nxt = sample_id(np.asarray(logits)[0], rng, temperature, top_k)
            yield self.vocab.decode([nxt])
            logits, state = self.step(np.array([nxt], np.int32), state)


def generator(path: Path) -> Generator:
    """A generator from a run directory, a SavedModel or a `.tflite` file with its sidecar."""
    from zoo import runs, runtime

    path = Path(path)
    if not path.exists():
        raise ZooError(f"{path}: no such model file or directory")
    if path.is_dir() and (path / runs.RECIPE).is_file():
        recipe, family, model = runtime.load_keras(path)
        if family.NAME != NAME:
            raise ZooError(f"{path}: a {family.NAME} run, not a text generator")
        return Generator.from_keras(model, recipe, load_meta(path))
    meta_path = runtime.sidecar(path)
    if not meta_path.is_file():
        raise ZooError(f"{path}: missing its sidecar {meta_path.name} (vocabulary and state size)")
    meta = runs.read_json(meta_path)
    if meta.get("family") != NAME:
        raise ZooError(f"{path}: a {meta.get('family')} model, not a text generator")
    if path.suffix == ".tflite":
        return Generator.from_litert(path, meta)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return Generator.from_savedmodel(path, meta)
    raise ZooError(f"{path}: not a run directory, SavedModel or .tflite file")


# ----------------------------------------------------------------------------- export

def export_meta(recipe: Recipe, vocab: Vocabulary) -> dict:
    return {"family": NAME, "recipe": recipe.name, "vocabulary": vocab.to_json(),
            "state_size": state_size(recipe), "cell": recipe.model.cell,
            "input": f"ids int32 [1] (vocabulary ids, 0 = unknown); state float32 [1, {state_size(recipe)}] "
                     "(zeros to start)",
            "output": "logits float32 [1, vocabulary] for the next character; state for the next step"}


def write_step_savedmodel(model, recipe: Recipe, path: Path, batch: int | None = 1) -> None:
    """A SavedModel whose `serving_default` is one step: (ids, state) -> {logits, state}."""
    import tensorflow as tf
    from keras.export import ExportArchive

    step = step_function(model, recipe)
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve", lambda ids, state: dict(zip(("logits", "state"), step(ids, state))),
        input_signature=[tf.TensorSpec((batch,), tf.int32, name="ids"),
                         tf.TensorSpec((batch, state_size(recipe)), tf.float32, name="state")])
    archive.write_out(str(path), verbose=False)


def prepare_export(recipe: Recipe, vocab: Vocabulary, data_root: Path, quantize: str) -> Path:
    """The check reads validation text itself; only `none` and `dynamic` apply."""
    if quantize == "int8":
        raise ZooError("--quantize int8 is for keyword spotting; a text generator exports none or dynamic")
    return data_root


def export_savedmodel(model, recipe: Recipe, path: Path) -> None:
    write_step_savedmodel(model, recipe, path, batch=None)


def export_tflite(model, recipe: Recipe, vocab: Vocabulary, quantize: str, data_root: Path) -> bytes:
    """The one-step generator as builtins-only LiteRT (float or dynamic-range)."""
    import tempfile

    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="zoo-export-") as tmp:
        write_step_savedmodel(model, recipe, Path(tmp), batch=1)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def check_export(model, recipe: Recipe, vocab: Vocabulary, path: Path, data_root: Path,
                 characters: int = 400) -> dict:
    """Steps the export through validation text and compares it with the Keras model.

    Records the largest logit difference against the full-window Keras model,
    both losses on those characters, generation speed of both, and whether the
    same seed and temperature give the same text.
    """
    _, val_text, _ = split_text(recipe, data_root)
    ids = vocab.encode(val_text)[:characters + 1]
    exported = generator(path)
    keras_gen = Generator.from_keras(model, recipe, vocab)
    ref = np.asarray(model.predict(ids[None, :-1], verbose=0))[0]
    state = np.zeros((1, state_size(recipe)), np.float32)
    got = []
    for i in ids[:-1]:
        logits, state = exported.step(np.array([i], np.int32), state)
        got.append(np.asarray(logits)[0])
    got = np.stack(got)

    def nats(logits):
        z = logits - logits.max(-1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(-1)) - z[np.arange(len(z)), ids[1:]]))

    text_keras = "".join(keras_gen.stream("\n", 200, temperature=1.0, seed=0))
    text_export = "".join(exported.stream("\n", 200, temperature=1.0, seed=0))
    return {"characters": int(len(got)), "max_logit_diff": float(np.max(np.abs(got - ref))),
            "loss_nats": round(nats(got), 4), "keras_loss_nats": round(nats(ref), 4),
            "same_text_as_keras": text_keras == text_export,
            "generate_chars_per_s": exported.chars_per_s(300), "keras_generate_chars_per_s": keras_gen.chars_per_s(300)}
