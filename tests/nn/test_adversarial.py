"""AdversarialModel: a step at the perturbed embedding table, applied to the unperturbed one."""

import keras
import numpy as np
import tensorflow as tf

from zoo.core.load import keras_model
from zoo.nn.adversarial import AdversarialModel

LR = 0.5


def _model(adversarial: float, cls=AdversarialModel):
    keras.utils.set_random_seed(1)
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(7, 3, mask_zero=True)(ids)
    x = keras.layers.LSTM(2)(x)
    logits = keras.layers.Dense(2)(x)
    model = cls(ids, logits, adversarial=adversarial) if adversarial is not None else cls(ids, logits)
    model.compile(optimizer=keras.optimizers.SGD(LR),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _batch():
    x = np.array([[1, 2, 3, 0], [4, 5, 6, 6], [2, 2, 0, 0]], np.int32)
    return x, np.array([0, 1, 1], np.int32)


def test_zero_is_a_plain_keras_step():
    x, y = _batch()
    plain, ours = _model(None, keras.Model), _model(0.0)
    for model in (plain, ours):
        model.fit(x, y, batch_size=3, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(plain.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_step_is_taken_at_the_perturbed_table():
    x, y = _batch()
    eps = 0.7
    model = _model(eps)
    start = [w.copy() for w in model.get_weights()]
    table = model.layers[1].embeddings
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    with tf.GradientTape() as tape:
        clean = loss(y, model(x))
    g = tf.convert_to_tensor(tape.gradient(clean, table))
    r = eps * g / tf.norm(g)
    table.assign_add(r)
    with tf.GradientTape() as tape:
        moved = loss(y, model(x))
    grads = [tf.convert_to_tensor(d) for d in tape.gradient(moved, model.trainable_weights)]
    expected = [w.numpy() - LR * d.numpy() for w, d in zip(model.trainable_weights, grads)]
    expected[0] -= r.numpy()  # the table goes back to where it was, then takes the step
    model.set_weights(start)

    model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    for want, got in zip(expected, model.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-6)
    plain = _model(0.0)
    plain.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(plain.get_weights()[0], model.get_weights()[0], atol=1e-4)


def test_saves_and_loads_in_safe_mode(tmp_path):
    model = _model(0.25)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras_model(path, {"AdversarialModel": AdversarialModel})
    assert isinstance(loaded, AdversarialModel) and loaded.adversarial == 0.25
    x, _ = _batch()
    np.testing.assert_array_equal(model.predict_on_batch(x), loaded.predict_on_batch(x))
