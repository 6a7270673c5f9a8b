"""The recurrent core against the NumPy reference cells: Keras layers, stepping, gate taps, int8's float graph."""

import keras
import numpy as np
import pytest

from zoo.core.int8 import Int8Graph
from zoo.nn import reference
from zoo.nn.recurrent import (
    GATES,
    Stack,
    gate_layers,
    gate_taps,
    recurrent_layer,
    recurrent_layers,
    tap_gate_layer,
    tap_layer,
)

STEPS, DIM, UNITS = 9, 3, 4
TOL = 1e-5


def _inputs(seed=0, batch=2):
    return np.random.default_rng(seed).normal(size=(batch, STEPS, DIM)).astype("float32")


def _stack_model(cell, bidirectional, layers, reset_after=True):
    """Recurrent layers only, with non-zero random biases so a bias in the wrong place shows."""
    inputs = keras.Input((STEPS, DIM))
    x = inputs
    for _ in range(layers):
        layer = recurrent_layer(cell, UNITS) if reset_after else \
            keras.layers.GRU(UNITS, return_sequences=True, reset_after=False)
        x = (keras.layers.Bidirectional(layer) if bidirectional else layer)(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(1)
    model.set_weights([w + rng.normal(scale=0.4, size=w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_keras_layers_and_gate_taps_equal_the_reference(cell, bidirectional, layers):
    model = _stack_model(cell, bidirectional, layers)
    x = _inputs()
    ref = reference.run_stack(recurrent_layers(model), x)
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, atol=TOL)
    # Every gate of every direction, at every step, as the textbook computes it.
    upstream = x
    for layer in recurrent_layers(model):
        taps = tap_layer(layer, upstream)
        np.testing.assert_allclose(taps.output, reference.run_layer(layer, upstream), atol=TOL)
        subs = [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
        for sub, direction in zip(subs, taps.directions):
            expected, _ = reference.run(reference.ReferenceCell.from_keras(sub), upstream, reverse=sub.go_backwards)
            assert set(direction.gates) == set(GATES[cell]) == set(expected)
            for name in GATES[cell]:
                np.testing.assert_allclose(direction.gates[name], expected[name], atol=TOL, err_msg=name)
        upstream = taps.output


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_stack_stepping_with_packed_state_equals_the_reference(cell, layers):
    model = _stack_model(cell, False, layers)
    x = _inputs()
    stack = Stack(recurrent_layers(model))
    assert stack.state_size == layers * UNITS * (2 if cell == "lstm" else 1)
    state = stack.zero_state(2)
    stepped = []
    for t in range(STEPS):
        y, state = stack.step(x[:, t], state)
        stepped.append(np.asarray(y))
    ref = reference.run_stack(recurrent_layers(model), x)
    np.testing.assert_allclose(np.stack(stepped, 1), ref, atol=TOL)
    # The packed state holds each layer's h (and c), in `layout` order: the last h is the output.
    h_last = np.asarray(state)[:, sum(w for _, _, w in stack.layout[:-1]):] if cell != "lstm" else \
        np.asarray(state)[:, -2 * UNITS:-UNITS]
    np.testing.assert_allclose(h_last, ref[:, -1], atol=TOL)
    # A window read in two halves with the state carried equals one read whole.
    first, carried = stack.sequence(x[:, :4], stack.zero_state(2))
    second, _ = stack.sequence(x[:, 4:], carried)
    np.testing.assert_allclose(np.concatenate([first, second], 1), ref, atol=TOL)


def test_gru_reset_before_convention_matches_keras_and_reference():
    model = _stack_model("gru", False, 1, reset_after=False)
    x = _inputs()
    layer = recurrent_layers(model)[0]
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.run_layer(layer, x), atol=TOL)
    np.testing.assert_allclose(tap_layer(layer, x).output, reference.run_layer(layer, x), atol=TOL)


def test_go_backwards_alone_and_last_state_outputs():
    inputs = keras.Input((STEPS, DIM))
    x = keras.layers.LSTM(UNITS, return_sequences=True, go_backwards=True)(inputs)
    y = keras.layers.GRU(UNITS, return_sequences=False)(x)
    model = keras.Model(inputs, y)
    x = _inputs()
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.run_stack(recurrent_layers(model), x),
                               atol=TOL)
    taps = gate_taps(model, x)
    assert [t.output.shape for t in taps] == [(2, STEPS, UNITS), (2, UNITS)]
    with pytest.raises(ValueError, match="backward direction cannot be stepped"):
        Stack(recurrent_layers(model))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_int8_float_graph_uses_the_same_equations(cell):
    model = _stack_model(cell, True, 2)
    x = _inputs(batch=3)
    np.testing.assert_allclose(Int8Graph(model).float_forward(x),
                               reference.run_stack(recurrent_layers(model), x), atol=TOL)


def test_taps_through_a_model_with_a_front_end():
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(7, DIM)(inputs)
    x = recurrent_layer("gru", UNITS)(x)
    model = keras.Model(inputs, keras.layers.Dense(7)(x))
    ids = np.array([[1, 2, 3, 4, 5]])
    (taps,) = gate_taps(model, ids)
    embedded = np.asarray(model.layers[1](ids))
    np.testing.assert_allclose(taps.output, reference.run_layer(recurrent_layers(model)[0], embedded), atol=TOL)
    assert taps.directions[0].gates["z"].shape == (1, 5, UNITS)
    assert 0.0 <= taps.directions[0].gates["z"].min() and taps.directions[0].gates["z"].max() <= 1.0


def test_gates_of_a_layer_applied_per_item_show_the_busiest_item():
    """A recurrent layer inside TimeDistributed (one weight set over items, as over object slots) is
    found by `gate_layers` and tapped on the item with the largest input; its taps match Keras."""
    inputs = keras.Input((3, 5, 2))
    per_item = keras.layers.TimeDistributed(recurrent_layer("lstm", 4, return_sequences=True), name="per_item")
    model = keras.Model(inputs, per_item(inputs))
    assert gate_layers(model) == [per_item] and recurrent_layers(model) == []
    x = np.zeros((1, 3, 5, 2), np.float32)
    x[0, 2] = np.random.default_rng(0).normal(size=(5, 2))  # item 2 is the only busy one
    taps = tap_gate_layer(model, per_item, x)
    np.testing.assert_allclose(taps.output[0], np.asarray(model(x))[0, 2], atol=TOL)
