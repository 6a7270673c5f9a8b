"""The exported LiteRT step model of a text recipe against the NumPy reference cells."""

import numpy as np
import pytest

from zoo.core import litert
from zoo.core.recipe import apply_overrides
from zoo.families.chargen.export import export_meta, export_tflite
from zoo.families.chargen.generate import Generator
from zoo.families.chargen.model import build, parts
from zoo.families.registry import registry
from zoo.nn import reference
from zoo.nn.recurrent import recurrent_layers
from zoo.text.corpus import Vocabulary


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_litert_step_model_follows_the_reference_cells(cell, tmp_path):
    recipe = apply_overrides(registry().get("chargen_gru_s_pydocs"),
                             [f"model.cell='{cell}'", "model.units=4", "model.layers=2", "model.embedding=3"])
    vocab = Vocabulary(list("abcdefg "))
    model = build(recipe, len(vocab))
    rng = np.random.default_rng(3)
    model.set_weights([w + rng.normal(scale=0.4, size=w.shape) for w in model.get_weights()])
    path = tmp_path / "step.tflite"
    path.write_bytes(litert.strip_tensor_names(export_tflite(model, recipe, "none")))
    generator = Generator.from_litert(path, export_meta(recipe, vocab))
    ids = vocab.encode("a bad cafe fed a dog")
    state = np.zeros((1, generator.state_width), np.float32)
    stepped = []
    for i in ids:
        logits, state = generator.step(np.array([i], np.int32), state)
        stepped.append(np.asarray(logits)[0])
    # The reference: embedding lookup, the textbook cells over the sequence, the output layer.
    embedding_layer, _, dense = parts(model)
    (embedding,), (kernel, bias) = embedding_layer.get_weights(), dense.get_weights()
    hidden = reference.run_stack(recurrent_layers(model), embedding[ids][None])[0]
    np.testing.assert_allclose(np.stack(stepped), hidden @ kernel + bias, atol=1e-5)
