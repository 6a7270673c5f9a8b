"""`zoo gradients`: the per-step input gradient of the loss, measured by splitting the model at its first
recurrent layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.gradients import input_gradients, step_norms

STEPS = 20


def _model(recurrent_scale: float):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, 2))
    projected = keras.layers.Dense(3, name="front")(inputs)
    rnn = keras.layers.SimpleRNN(4, name="rnn")
    logits = keras.layers.Dense(2, name="head")(rnn(projected))
    model = keras.Model(inputs, logits)
    kernel, _, bias = rnn.get_weights()
    rnn.set_weights([kernel, recurrent_scale * np.eye(4, dtype="float32"), bias])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, STEPS, 2)).astype("float32"), np.eye(2, dtype="float32")[rng.integers(0, 2, 6)]


def test_the_split_model_gives_the_whole_models_gradient():
    model, (x, y) = _model(0.9), _data()
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    norms, used = input_gradients(model, loss, [(x, y)], max_inputs=6)
    projected = model.get_layer("front")(x)
    with tf.GradientTape() as tape:
        tape.watch(projected)
        total = loss(y, model.get_layer("head")(model.get_layer("rnn")(projected)))
    per_input = tape.gradient(total, projected).numpy() * 6  # each input's own gradient, not the batch mean's
    expected = step_norms(per_input).mean(axis=0)
    assert used == 6
    np.testing.assert_allclose(norms, expected, rtol=1e-4)


def test_a_plain_rnn_with_small_recurrent_weights_forgets_early_steps():
    model, (x, y) = _model(0.3), _data()
    norms, _ = input_gradients(model, keras.losses.CategoricalCrossentropy(from_logits=True), [(x, y)])
    assert norms[-1] > 0 and norms[0] < 1e-6 * norms[-1]  # 0.3 ** 19 is 1e-10
    assert np.all(np.diff(np.log(norms)) > 0)  # and every step back loses more


def test_a_model_without_recurrent_layers_is_one_error():
    inputs = keras.Input((STEPS, 2))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ZooError, match="has no recurrent layer"):
        input_gradients(model, keras.losses.MeanSquaredError(), [_data()])
