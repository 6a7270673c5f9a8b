"""LiteRT helpers every family shares: one converter set-up, one interpreter opener, one timer.

Files use builtin ops only (no Flex), so the stock `ai_edge_litert` interpreter
and phone runtimes run them. Conversion goes through a SavedModel with a fixed
batch (a dynamic batch makes recurrent loops need Flex ops).

Example:
    >>> latency_ms(lambda x: x, 1, repeats=3) >= 0.0
    True
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError


def convert_saved_model(saved_model_dir: str | Path, quantize: str = "none") -> bytes:
    """Builtins-only LiteRT bytes of a SavedModel; `dynamic` stores weights as int8.

    `quantize="int8"` here means a graph already carrying fake-quant nodes
    (`zoo.core.int8`), which the converter turns into int8 kernels.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize in ("dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as e:  # ConverterError carries a long MLIR dump: keep its first line
        raise ZooError(f"LiteRT conversion failed: {str(e).splitlines()[0]}") from None


def convert_written(write, quantize: str = "none") -> bytes:
    """Builtins-only LiteRT bytes of the SavedModel that `write(folder)` writes into a temporary folder."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="zoo-export-") as tmp:
        write(Path(tmp))
        return convert_saved_model(tmp, quantize)


def strip_tensor_names(flatbuffer: bytes) -> bytes:
    """The same LiteRT model without tensor names (debug strings); signatures stay."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(flatbuffer)
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            tensor.name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def open_interpreter(path: Path | bytes):
    """The LiteRT interpreter of `path` (or of model bytes) on one thread; a bad file is a one-line error."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        if isinstance(path, bytes):
            return Interpreter(model_content=path, num_threads=1)
        return Interpreter(model_path=str(path), num_threads=1)
    except (ValueError, RuntimeError) as e:
        source = "model bytes" if isinstance(path, bytes) else path
        raise ZooError(f"{source}: not a loadable LiteRT model ({str(e).splitlines()[0]})") from None


def single_runner(path: Path):
    """Runs a single-input, single-output LiteRT model one example at a time (its batch is 1):
    a function batch [N, ...] -> outputs [N, ...] float32."""
    interp = open_interpreter(path)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]

    def run(batch):
        results = []
        for example in batch:
            interp.set_tensor(inp["index"], example[None].astype(inp["dtype"]))
            interp.invoke()
            results.append(interp.get_tensor(out["index"])[0].astype(np.float32))
        return np.stack(results)

    return run


def latency_ms(fn, example, repeats: int = 50) -> float:
    """Median wall-clock milliseconds of `fn(example)` over `repeats` calls, after one warm-up call."""
    fn(example)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(example)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 3)


def call_latency_ms(path: Path, repeats: int = 50) -> float:
    """Median milliseconds, one thread, of one call of every signature of a LiteRT file (summed; a file
    with an encoder and a decoder step counts one of each), on zero inputs of the declared shapes."""
    interp = open_interpreter(path)
    if not interp.get_signature_list():
        raise ZooError(f"{path}: no signatures to time (every zoo export has them)")
    total = 0.0
    for key in interp.get_signature_list():
        runner = interp.get_signature_runner(key)
        inputs = {name: np.zeros(d["shape"], d["dtype"]) for name, d in runner.get_input_details().items()}
        total += latency_ms(lambda x, run=runner: run(**x), inputs, repeats)
    return round(total, 3)
