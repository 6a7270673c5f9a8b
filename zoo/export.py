"""Export a run to SavedModel or builtins-only LiteRT, then check the export.

LiteRT files use builtin ops only (no Flex), so the stock `ai_edge_litert`
interpreter and phone runtimes run them. They are converted from a SavedModel
with a fixed batch of 1 (a dynamic batch makes recurrent loops need Flex).
Full-integer int8 goes through `zoo.quantize` (calibrated on training clips,
recurrent loops kept as loops): the converter's own calibrator crashes on
recurrent `WHILE` loops.

Every export checks itself against the Keras model (the family says how:
held-out clips for keyword spotting, validation text for text generation) and
records the result, with the file size, in `export.json` beside it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from zoo import runs, runtime
from zoo.errors import ZooError

QUANT_NAMES = {"none": "float", "dynamic": "dynamic", "int8": "int8"}


def tflite_bytes(model, signature, quantize: str, calibration=None, float_layers=()) -> bytes:
    """Converts a Keras model to LiteRT flatbuffer bytes (builtin ops only).

    `none` and `dynamic` convert the model itself. `int8` converts the model
    rebuilt by `zoo.quantize.Int8Graph`, calibrated on `calibration` inputs:
    int8 weights and activations everywhere but the `float_layers` (for
    keyword spotting the audio front end: its power spectrum and logarithm
    need more than 8 bits), with the recurrent loops kept as `WHILE` loops.

    Args:
        model: a Keras model.
        signature: its input signature with a batch of 1 (a list of one TensorSpec).
        quantize: `none`, `dynamic` or `int8`.
        calibration: inputs for int8 calibration.
        float_layers: names of layers int8 leaves in float.
    """
    import tensorflow as tf

    from zoo.quantize import Int8Graph

    with tempfile.TemporaryDirectory(prefix="zoo-export-") as tmp:
        if quantize == "int8":
            graph = Int8Graph(model, float_layers)
            graph.calibrate(calibration)
            return graph.tflite(signature[0].shape, tmp)
        model.export(tmp, format="tf_saved_model", input_signature=signature, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def strip_tensor_names(flatbuffer: bytes) -> bytes:
    """The same LiteRT model without tensor names (debug strings); signatures stay."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(flatbuffer)
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            tensor.name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _atomic_dir(target: Path, build) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    build(tmp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _latency_ms(fn, example: np.ndarray, repeats: int = 50) -> float:
    fn(example)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(example)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 3)


def check(keras_model, exported: runtime.Loaded, x: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy of the export and of the Keras model on the same clips, and their gap."""
    ref = np.concatenate([np.asarray(keras_model.predict_on_batch(x[i:i + 256]))
                          for i in range(0, len(x), 256)])
    got = exported.logits(x)
    return {
        "clips": int(len(y)),
        "accuracy": round(float(np.mean(got.argmax(-1) == y)), 4),
        "keras_accuracy": round(float(np.mean(ref.argmax(-1) == y)), 4),
        "max_logit_diff": float(np.max(np.abs(got - ref))),
        "agreement": round(float(np.mean(got.argmax(-1) == ref.argmax(-1))), 4),
        "latency_ms": _latency_ms(exported.logits, x[:1]),
        "keras_predict_latency_ms": _latency_ms(lambda b: keras_model.predict(b, verbose=0), x[:1], 20),
    }


def export_run(run_dir: Path, fmt: str, quantize: str = "none", out: Path | None = None,
               data_root: Path = Path("data")) -> dict:
    """Exports RUN as `fmt` (`savedmodel` or `tflite`), checks it, updates export.json.

    What is exported and how it is checked is the family's: `prepare_export`
    loads what both need once, `export_savedmodel` / `export_tflite` make the
    model, `check_export` compares the export with the Keras model.
    """
    import tensorflow as tf

    recipe, family, model = runtime.load_keras(run_dir)
    meta_obj = family.load_meta(Path(run_dir))
    meta = family.export_meta(recipe, meta_obj)
    exports = Path(run_dir) / "exports"
    if fmt == "savedmodel" and quantize != "none":
        raise ZooError("--quantize applies to --format tflite only")
    ctx = family.prepare_export(recipe, meta_obj, data_root, quantize)
    if fmt == "savedmodel":
        out = Path(out or exports / "saved_model")
        out.parent.mkdir(parents=True, exist_ok=True)

        def build(tmp: Path):
            family.export_savedmodel(model, recipe, tmp)
            runs.write_json(tmp / "zoo.json", meta)

        _atomic_dir(out, build)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    else:
        out = Path(out or exports / f"model_{QUANT_NAMES[quantize]}.tflite")
        if out.suffix != ".tflite":
            raise ZooError(f"{out}: a LiteRT file must end in .tflite")
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = family.export_tflite(model, recipe, meta_obj, quantize, ctx)
        except ZooError:
            raise
        except Exception as e:  # the converter raises ConverterError with a long MLIR dump
            raise ZooError(f"LiteRT conversion failed: {str(e).splitlines()[0]}") from None
        data = strip_tensor_names(data)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, out)
        runs.write_json(runtime.sidecar(out), meta)
        size = len(data)
    report = {"file": str(out), "format": fmt, "quantize": quantize, "size_bytes": size,
              "tensorflow": tf.__version__}
    report.update(family.check_export(model, recipe, meta_obj, out, ctx))
    ledger_path = out.parent / "export.json"
    ledger = runs.read_json(ledger_path) if ledger_path.is_file() else {}
    ledger[out.name] = report
    runs.write_json(ledger_path, ledger)
    return report
