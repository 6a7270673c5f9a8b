"""The caption model at tiny sizes: every tensor's shape, masked padding, decoding, reloading."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.core.recipe import apply_overrides
from zoo.families.caption.captioner import Captioner
from zoo.families.caption.decoder import CaptionDecoder
from zoo.families.caption.export import export_meta
from zoo.families.caption.model import build, decoder_layer, encoder_model, memory_length, word_logits
from zoo.families.caption.recipes import recipes
from zoo.families.caption.size import SLOTS, count_params
from zoo.families.registry import FAMILIES
from zoo.text.words import PAD, WordVocabulary

VOCAB = WordVocabulary(["a", "red", "circle", "moves", "left"])
TINY = ["model.units=4", "model.embedding=3", "model.frame_dim=4", "model.conv_filters=(2, 3)", "model.size=16",
        "model.frames=5", "model.feature_dim=6", "data.max_words=7"]


def tiny(head, cell, encoder="conv", concepts=0.0):
    recipe = apply_overrides(recipes()[0], [*TINY, f"model.head={head}", f"model.cell={cell}",
                                            f"model.encoder={encoder}", f"model.concepts={concepts}"])
    return recipe, build(recipe, len(VOCAB))


def clips(recipe, n=3, seed=0):
    rng = np.random.default_rng(seed)
    m = recipe.model
    shape = (n, m.frames, m.feature_dim) if m.encoder == "features" else (n, m.frames, m.size, m.size, 3)
    return rng.uniform(0, 255, shape).astype(np.float32)


@pytest.mark.parametrize("encoder", ["conv", "slots"])
@pytest.mark.parametrize("head", ["meanpool", "s2vt", "attention"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_head_and_cell_has_the_documented_shapes(encoder, head, cell):
    recipe, model = tiny(head, cell, encoder=encoder, concepts=1.0 if cell == "gru" else 0.0)
    assert model.count_params() == count_params(recipe, len(VOCAB))
    x, words = clips(recipe), np.ones((3, 6), np.int32)
    assert word_logits(model, [x, words]).shape == (3, 6, len(VOCAB))
    *state, memory = encoder_model(model)(x)
    assert [tuple(s.shape) for s in state] == [(3, 4)] * (2 if cell == "lstm" else 1)
    # encoder states (frame vectors for meanpool: frame_dim 4); over slots, one per slot (and frame, for attention)
    expected = {"conv": 5, "slots": {"attention": SLOTS * 5}.get(head, SLOTS)}[encoder]
    assert tuple(memory.shape) == (3, expected, 4) and memory_length(recipe) == expected
    if recipe.model.concepts:
        assert tuple(model([x, words])["concepts"].shape) == (3, len(VOCAB))
    decoder = decoder_layer(model)
    packed = np.concatenate([np.asarray(s) for s in state], -1)
    logits, new_state = decoder.step(words[:, 0], packed, memory)
    assert tuple(logits.shape) == (3, len(VOCAB)) and tuple(new_state.shape) == packed.shape
    # one step from the encoder's state is the first position of teacher forcing
    np.testing.assert_allclose(np.asarray(logits), np.asarray(word_logits(model, [x, words]))[:, 0], atol=1e-5)


def test_features_encoder_reads_frames_by_features():
    recipe, model = tiny("meanpool", "lstm", encoder="features")
    assert model.inputs[0].shape == (None, 5, 6)
    assert word_logits(model, [clips(recipe), np.ones((3, 2), np.int32)]).shape == (3, 2, len(VOCAB))


def test_padding_never_changes_the_loss():
    recipe, model = tiny("attention", "gru", concepts=1.0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD)
    x = clips(recipe, 2)
    words_in = np.array([[1, 4, 5, 6], [1, 4, 6, 0]], np.int32)
    words_out = np.array([[4, 5, 6, 2], [4, 6, 2, 0]], np.int32)
    short = float(loss(words_out, word_logits(model, [x, words_in])))
    padded_in, padded_out = (np.pad(w, ((0, 0), (0, 5))) for w in (words_in, words_out))
    long = float(loss(padded_out, word_logits(model, [x, padded_in])))
    assert short == pytest.approx(long, rel=1e-6)
    changed = words_out.copy()
    changed[1, 3] = 5  # a real token where padding was: the loss must see it
    assert float(loss(changed, word_logits(model, [x, words_in]))) != pytest.approx(short, rel=1e-6)


@pytest.mark.parametrize("head", ["s2vt", "attention"])
def test_beam_of_one_is_greedy_and_beams_are_batched(head):
    recipe, model = tiny(head, "lstm")
    captioner = Captioner.from_keras(model, VOCAB, export_meta(recipe, VOCAB))
    x = clips(recipe, 4, seed=1)
    greedy = captioner.ids(x, beam=1)
    assert captioner.ids(x, beam=1, batch_size=3) == greedy  # batching changes nothing
    # beam 1 through the beam-search code path equals greedy decoding
    from zoo.nn.decode import beam_search
    from zoo.text.words import BOS, EOS
    state, memory = captioner.encode(x)

    def step(words, carried):
        logits, new = captioner.step_fn(words, carried[0], carried[1])
        return logits, [new, carried[1]]

    assert beam_search(step, [state, memory], BOS, EOS, recipe.data.max_words - 1, beam=1) == greedy
    wide = captioner.ids(x, beam=3)
    assert len(wide) == 4 and all(len(w) <= recipe.data.max_words - 1 for w in wide)


def test_saved_model_reloads_in_safe_mode_with_the_same_outputs(tmp_path):
    recipe, model = tiny("attention", "lstm")
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True,
                                    custom_objects=FAMILIES["caption"].custom_objects())
    x, words = clips(recipe), np.ones((3, 4), np.int32)
    np.testing.assert_allclose(np.asarray(word_logits(again, [x, words])), np.asarray(word_logits(model, [x, words])),
                               atol=1e-6)
    assert decoder_layer(again).get_config()["attention"] is True


def test_word_dropout_reads_unknown_words_in_training_only():
    decoder = CaptionDecoder(vocab_size=9, units=4, embedding=3, cell="lstm", word_dropout=1.0)
    words = np.array([[1, 5, 6, 7, 0]], np.int32)
    state = [np.zeros((1, 4), "float32")] * 2
    memory = np.zeros((1, 2, 4), "float32")
    unknown = np.array([[1, 3, 3, 3, 0]], np.int32)  # <bos> and <pad> stay
    np.testing.assert_allclose(np.asarray(decoder(words, state, memory, training=True)),
                               np.asarray(decoder(unknown, state, memory)), atol=1e-6)
    assert not np.allclose(np.asarray(decoder(words, state, memory)), np.asarray(decoder(unknown, state, memory)))
