"""The int8 graph: the rebuilt TF graph equals Keras in float; LiteRT runs it in int8 with its loops."""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.int8 import Int8Graph
from zoo.core.litert import strip_tensor_names
from zoo.nn.layers import AttentionPooling

STEPS, DIM = 7, 3


def _clips(n=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, STEPS, DIM)).astype("float32")


def _model(cell, bidirectional=True, go_backwards=False, pooling="attention", conv=False, layers=2):
    layer_cls = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "rnn": keras.layers.SimpleRNN}[cell]
    inputs = keras.Input((STEPS, DIM))
    x = inputs
    if conv:
        x = keras.layers.Conv1D(4, 3, strides=2, padding="same", activation="relu")(x)
    for i in range(layers):
        sequences = i < layers - 1 or pooling != "last"
        layer = layer_cls(3, return_sequences=sequences, go_backwards=go_backwards)
        x = (keras.layers.Bidirectional(layer) if bidirectional else layer)(x)
        x = keras.layers.Dropout(0.5)(x)
    if pooling == "attention":
        x = AttentionPooling()(x)
    elif pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D()(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    # Non-zero biases, so a bias in the wrong place shows.
    model.set_weights([w + np.random.default_rng(1).normal(scale=0.3, size=w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("kwargs", [
    {}, {"bidirectional": False}, {"bidirectional": False, "go_backwards": True},
    {"pooling": "last"}, {"pooling": "mean", "conv": True}, {"pooling": "max", "layers": 1},
])
def test_rebuilt_graph_equals_keras(cell, kwargs):
    model = _model(cell, **kwargs)
    clips = _clips()
    graph = Int8Graph(model)
    np.testing.assert_allclose(graph.float_forward(clips), model.predict(clips, verbose=0), atol=2e-5)
    graph.calibrate(clips)  # the Python-loop path records ranges without changing values
    assert graph.ranges and all(lo <= hi for lo, hi in graph.ranges.values())


def _ops(flatbuffer):
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.python import schema_util

    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    ops = collections.Counter()
    for g in range(model.SubgraphsLength()):
        sub = model.Subgraphs(g)
        for o in range(sub.OperatorsLength()):
            op = sub.Operators(o)
            code = schema_util.get_builtin_code_from_operator_code(model.OperatorCodes(op.OpcodeIndex()))
            ops[(names[code], types[sub.Tensors(op.Inputs(0)).Type()])] += 1
    return ops


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_int8_litert_keeps_loops_and_tracks_keras(cell, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    model = _model(cell)
    graph = Int8Graph(model)
    graph.calibrate(_clips(64, seed=2))
    data = strip_tensor_names(graph.tflite(tf.TensorSpec((1, STEPS, DIM), tf.float32, name="audio"),
                                           str(tmp_path / "sm")))
    ops = _ops(data)
    assert ops[("WHILE", "INT32")] == 2  # one loop per layer, both directions inside: not unrolled
    assert ops[("FULLY_CONNECTED", "INT8")] >= 4  # recurrent and input projections run in int8
    assert ops[("FULLY_CONNECTED", "FLOAT32")] == 0
    runner = Interpreter(model_content=data).get_signature_runner()
    clips = _clips(32, seed=3)
    got = np.concatenate([runner(audio=c[None])["logits"] for c in clips])
    ref = model.predict(clips, verbose=0)
    assert np.abs(got - ref).max() < 0.25 * np.abs(ref).max()
    assert np.mean(got.argmax(-1) == ref.argmax(-1)) >= 0.8


def test_unsupported_layer_is_a_clear_error(tmp_path):
    inputs = keras.Input((STEPS, DIM))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="relu")(keras.layers.LSTM(3)(inputs)))
    with pytest.raises(ZooError, match="must be linear"):
        Int8Graph(model).calibrate(_clips())
    with pytest.raises(ZooError, match="calibrate before"):
        Int8Graph(model).tflite(tf.TensorSpec((1, STEPS, DIM), tf.float32), str(tmp_path))
