"""Load a run directory, a SavedModel or a LiteRT file behind one interface.

Every exported model carries a small JSON sidecar (`zoo.json` inside a
SavedModel, `NAME.json` beside `NAME.tflite`) with its family, labels and
input format, so inference needs nothing from the run directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from zoo import families, runs
from zoo.errors import ZooError


@dataclasses.dataclass
class Loaded:
    """A model ready for inference: `logits(batch)` plus what its inputs mean."""

    kind: str              # keras | savedmodel | tflite
    path: Path
    meta: dict             # family, recipe, labels, sample_rate, clip_seconds
    logits: Callable[[np.ndarray], np.ndarray]

    @property
    def labels(self) -> list[str]:
        return self.meta["labels"]


def sidecar(model_path: Path) -> Path:
    model_path = Path(model_path)
    return model_path / "zoo.json" if model_path.suffix != ".tflite" else model_path.with_suffix(".json")


def load_keras(run_dir: Path):
    import keras

    run_dir = runs.require_run(run_dir)
    recipe = families.recipe_from_json(runs.read_json(run_dir / runs.RECIPE))
    family = families.get(recipe.family)
    model = keras.saving.load_model(run_dir / runs.MODEL, safe_mode=True,
                                    custom_objects=family.custom_objects())
    return recipe, family, model


def open_interpreter(path: Path):
    """The LiteRT interpreter of `path` on one thread; a bad file is a one-line error."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        return Interpreter(model_path=str(path), num_threads=1)
    except (ValueError, RuntimeError) as e:
        raise ZooError(f"{path}: not a loadable LiteRT model ({str(e).splitlines()[0]})") from None


def tflite_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """Runs a single-output LiteRT model one example at a time (its batch is 1)."""
    interp = open_interpreter(path)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]

    def run(batch: np.ndarray) -> np.ndarray:
        results = []
        for example in batch:
            interp.set_tensor(inp["index"], example[None].astype(inp["dtype"]))
            interp.invoke()
            results.append(interp.get_tensor(out["index"])[0].astype(np.float32))
        return np.stack(results)

    return run


def load(path: Path) -> Loaded:
    """Loads MODEL: a run directory, a SavedModel directory or a `.tflite` file."""
    path = Path(path)
    if not path.exists():
        raise ZooError(f"{path}: no such model file or directory")
    if path.is_dir() and (path / runs.RECIPE).is_file():
        recipe, family, model = load_keras(path)
        meta = family.export_meta(recipe, family.load_meta(path))
        return Loaded("keras", path, meta, lambda b: np.asarray(model.predict_on_batch(b)))
    meta_path = sidecar(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        import tensorflow as tf

        meta = runs.read_json(meta_path)
        fn = tf.saved_model.load(str(path)).signatures["serving_default"]

        def run(batch):
            outputs = fn(tf.constant(batch, tf.float32))
            return next(iter(outputs.values())).numpy()

        return Loaded("savedmodel", path, meta, run)
    if path.suffix == ".tflite":
        if not meta_path.is_file():
            raise ZooError(f"{path}: missing its sidecar {meta_path.name} (labels and input format)")
        return Loaded("tflite", path, runs.read_json(meta_path), tflite_runner(path))
    raise ZooError(f"{path}: not a run directory, SavedModel or .tflite file")


def expand_inputs(items) -> list[Path]:
    """Files as given; folders become their `*.wav` files (recursively, sorted)."""
    files = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.suffix.lower() == ".wav")
            if not found:
                raise ZooError(f"{item}: folder has no .wav files")
            files.extend(found)
        else:
            files.append(item)
    return files


def predict_files(loaded: Loaded, items, top_k: int = 3):
    """Yields one dict per file: top-k labels and scores, or an `error` line."""
    if loaded.meta["family"] != "kws":
        raise ZooError(f"{loaded.path}: zoo predict runs keyword spotters; for text use zoo generate")
    family = families.get(loaded.meta["family"])
    for path in expand_inputs(items):
        try:
            clip = family.prepare_clip(path, loaded.meta)
        except ZooError as e:
            yield {"file": str(path), "error": str(e)}
            continue
        logits = loaded.logits(clip[None])[0]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        order = np.argsort(-probs)[:top_k]
        yield {"file": str(path),
               "top": [{"label": loaded.labels[i], "score": round(float(probs[i]), 4)} for i in order]}
