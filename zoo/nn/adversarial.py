"""A functional model that trains its embedding tables against their worst small perturbation.

Each training step first moves every `Embedding` table of the model by a step of norm
`adversarial` along the loss gradient (one norm over all tables, so the step is that long in
total), takes the usual training step there, and then moves the tables back: the update is
`w - lr * grad L(w + r)` with `r = adversarial * g / ||g||` on the tables only. This is
sharpness-aware minimisation (Foret et al. 2021) restricted to the embeddings, or adversarial
training on the embedding table (the "fast gradient method" of Miyato et al. 2017 applied to the
table, not to each sentence). The rows the loss is most sensitive to move most, so training
favours embeddings whose neighbourhood scores as well as they do.

With `adversarial=0` a step is exactly Keras's own. Inference, saving and export are those of
any functional model; the setting is saved in the config.

Example:
    >>> import keras, numpy as np
    >>> ids = keras.Input((None,), dtype="int32")
    >>> x = keras.layers.Embedding(10, 3)(ids)
    >>> model = AdversarialModel(ids, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(x)),
    ...                          adversarial=0.3)
    >>> model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> _ = model.fit(np.ones((4, 5), "int32"), np.zeros(4, "int32"), verbose=0)
    >>> model.get_config()["adversarial"]
    0.3
"""

from __future__ import annotations

import keras
import tensorflow as tf


class AdversarialModel(keras.Model):
    """A functional model (`AdversarialModel(inputs, outputs, adversarial=eps)`) whose training steps
    are taken at embedding tables moved by `eps` along their loss gradient.

    Args:
        adversarial: length of the perturbation of all embedding tables together (0: a plain step).
    """

    def __init__(self, *args, adversarial: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.adversarial = float(adversarial)

    def get_config(self):
        return {**super().get_config(), "adversarial": self.adversarial}

    def _tables(self) -> list:
        return [layer.embeddings for layer in self.layers if isinstance(layer, keras.layers.Embedding)]

    def train_step(self, data):
        tables = self._tables()
        if not self.adversarial or not tables:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x, y, self(x, training=True), sample_weight, training=True)
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, tables)]
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:  # one perturbation on every replica
            grads = context.all_reduce(tf.distribute.ReduceOp.MEAN, grads)
        scale = self.adversarial / (tf.linalg.global_norm(grads) + 1e-12)
        steps = [g * scale for g in grads]
        for table, step in zip(tables, steps):
            table.assign_add(step)
        logs = super().train_step(data)
        for table, step in zip(tables, steps):
            table.assign_sub(step)
        return logs
