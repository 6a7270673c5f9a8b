"""Export a run to SavedModel or builtins-only LiteRT, then check the export.

What is exported and how it is checked is the family's (`Family.export_*`,
`Family.check_export`); this module loads the run, asks the family's
capabilities whether the format and quantization apply, writes atomically
(temporary name, then rename) and keeps the ledger `exports/export.json`.

Full-integer int8 goes through `zoo.core.int8` (calibrated fake-quant rebuild,
recurrent loops kept as loops): the converter's own calibrator crashes on
recurrent `WHILE` loops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from zoo.core import litert, runs
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.int8 import Int8Graph
from zoo.core.load import load_run, sidecar

QUANT_NAMES = {"none": "float", "dynamic": "dynamic", "int8": "int8"}


def keras_to_tflite(model, signature, quantize: str, calibration=None, float_layers=()) -> bytes:
    """Converts a Keras model to LiteRT flatbuffer bytes (builtin ops only).

    `none` and `dynamic` convert the model itself. `int8` converts the model
    rebuilt by `zoo.core.int8.Int8Graph`, calibrated on `calibration` inputs:
    int8 weights and activations everywhere but the `float_layers` (an audio
    front end, say: a power spectrum and its logarithm need more than 8 bits),
    with the recurrent loops kept as `WHILE` loops.

    Args:
        model: a Keras model.
        signature: its input signature with a batch of 1 (a list of one TensorSpec).
        quantize: `none`, `dynamic` or `int8`.
        calibration: inputs for int8 calibration.
        float_layers: layers (objects of `model`) that int8 leaves in float.
    """
    with tempfile.TemporaryDirectory(prefix="zoo-export-") as tmp:
        if quantize == "int8":
            graph = Int8Graph(model, float_layers)
            graph.calibrate(calibration)
            graph.save(signature[0], tmp)
        else:
            model.export(tmp, format="tf_saved_model", input_signature=signature, verbose=False)
        return litert.convert_saved_model(tmp, quantize)


def _atomic_dir(target: Path, build) -> None:
    """Builds a folder under a fresh temporary name beside `target`, then renames it over `target`.

    The temporary name is unique, so two exports of one run at once never share it.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; an export folder is not
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def export_run(run_dir: Path, families: Mapping[str, Family], fmt: str, quantize: str = "none",
               out: Path | None = None, data_root: Path = Path("data"), streaming: bool = False) -> dict:
    """Exports RUN as `fmt` (`savedmodel` or `tflite`), checks it, updates `export.json`.

    Args:
        run_dir: a trained run directory.
        families: the family table (name -> Family).
        fmt: `savedmodel` or `tflite`.
        quantize: `none`, `dynamic` or `int8`, as the family's capabilities allow.
        out: the file or folder to write (default `RUN/exports/...`).
        data_root: where data sets are cached (for the check and int8 calibration).
        streaming: export the one-hop step model (state in, state out) instead of the whole-clip
            model, for recipes whose family's `stream_blocker` allows it.
    """
    import tensorflow as tf

    recipe, family, model = load_run(run_dir, families)
    family.require_quantize(quantize, fmt)
    if streaming:
        family.require_stream(recipe)
    meta_obj = family.load_meta(Path(run_dir))
    meta = family.stream_meta(model, recipe, meta_obj) if streaming else family.export_meta(recipe, meta_obj)
    exports = Path(run_dir) / "exports"
    prefix = "stream" if streaming else "model"
    if fmt == "savedmodel":
        out = Path(out or exports / ("stream_saved_model" if streaming else "saved_model"))
    else:
        out = Path(out or exports / f"{prefix}_{QUANT_NAMES[quantize]}.tflite")
        if out.suffix != ".tflite":
            raise ZooError(f"{out}: a LiteRT file must end in .tflite")
    context = family.prepare_export(recipe, meta_obj, data_root, quantize)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "savedmodel":
        def build(tmp: Path):
            (family.export_stream_savedmodel if streaming else family.export_savedmodel)(model, recipe, meta_obj, tmp)
            runs.write_json(tmp / "zoo.json", meta)

        _atomic_dir(out, build)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    else:
        convert = family.export_stream_tflite if streaming else family.export_tflite
        data = litert.strip_tensor_names(convert(model, recipe, meta_obj, quantize, context))
        with runs.atomic_path(out) as tmp:
            tmp.write_bytes(data)
        runs.write_json(sidecar(out), meta)
        size = len(data)
    report = {"file": str(out), "format": fmt, "quantize": quantize, "streaming": streaming, "size_bytes": size,
              "tensorflow": tf.__version__}
    report.update((family.check_stream if streaming else family.check_export)(model, recipe, meta_obj, out, context))
    ledger_path = out.parent / "export.json"
    ledger = runs.read_json(ledger_path) if ledger_path.is_file() else {}
    ledger[out.name] = report
    runs.write_json(ledger_path, ledger)
    return report
