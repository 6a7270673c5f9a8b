import dataclasses
import json
import re
import typing

import pytest

from zoo.core.errors import ZooError
from zoo.core.recipe import Recipe, Registry, TrainConfig, apply_overrides, check_values
from zoo.families.registry import FAMILIES, get, registry


def test_every_registered_recipe_builds():
    names = registry().names()
    assert {"kws_gru_s_fsdd", "kws_lstm_s_fsdd", "kws_rnn_s_fsdd", "kws_gru_s_tts",
            "kws_gru_s_ttsdigits", "kws_crnn_m_sc12", "chargen_gru_s_pydocs", "chargen_lstm_m_shakespeare",
            "chargen_gru_m_shakespeare", "chargen_rnn_m_shakespeare"} <= set(names)
    for recipe in registry():
        family = get(recipe.family)
        meta = family.default_meta(recipe)
        model = family.build(recipe, meta)
        assert model.count_params() > 0
        if recipe.family == "kws":  # raw audio of the clip's length in, one logit per label out
            assert model.input_shape[1] == int(recipe.data.sample_rate * recipe.data.clip_seconds)
            assert model.output_shape == (None, len(meta))
        elif recipe.family == "caption":  # clip and words in, next-word logits (and concepts) out
            words = model.output["words"] if isinstance(model.output, dict) else model.output
            assert tuple(words.shape) == (None, None, len(meta)) and model.inputs[0].shape[1] == recipe.model.frames
        elif recipe.family == "chargen":  # character ids in, next-character logits out, at every position
            assert model.output_shape == (None, None, len(meta))
        elif recipe.family == "sentiment":  # word ids in, one logit per label out
            assert model.output_shape == (None, len(meta["labels"]))
        else:  # (value, marker) steps in, the sum out
            assert recipe.family == "memory" and model.output_shape == (None, 1)


def test_recipe_names_follow_task_arch_size_dataset():
    for recipe in registry():
        task, arch, size, dataset = recipe.name.split("_")
        assert task == recipe.family and dataset
        if task == "caption":  # caption_head_cell_dataset, as the captioning papers name their models
            assert arch == recipe.model.head and size == recipe.model.cell
        else:  # a `u` before the architecture marks a causal recipe, one that streams; `bi` a bidirectional one
            assert size in ("s", "m") and arch.removeprefix("u").removeprefix("bi") in ("rnn", "lstm", "gru", "crnn")
            assert arch.startswith("u") == bool(getattr(recipe.model, "causal", False))


def test_duplicate_name_raises():
    r = registry().get("kws_gru_s_fsdd")
    with pytest.raises(ValueError, match="twice"):
        Registry([r, r])


def test_unknown_recipe_lists_known():
    with pytest.raises(ZooError, match="known recipes: .*kws_gru_s_fsdd"):
        registry().get("kws_nope")


def test_overrides_are_typed():
    r = registry().get("kws_gru_s_fsdd")
    r2 = apply_overrides(r, ["train.epochs=3", "model.cell=lstm", "train.learning_rate=1",
                             "data.snr_db=(0, 10)", "data.words=['yes', 'no']"])
    assert r2.train.epochs == 3 and r2.model.cell == "lstm"
    assert r2.train.learning_rate == 1.0 and isinstance(r2.train.learning_rate, float)
    assert r2.data.snr_db == (0.0, 10.0) and r2.data.words == ("yes", "no")
    assert r.train.epochs != 3  # the registered recipe is untouched (frozen)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.train.epochs = 1


@pytest.mark.parametrize("override, message", [
    ("train.epoch=3", "unknown key train.epoch; valid keys: train.epochs"),
    ("optim.lr=3", "unknown section 'optim'"),
    ("train.epochs=3.5", "expected int"),
    ("train.epochs='many'", "expected int"),
    ("model.bidirectional=1", "expected bool"),
    ("data.snr_db=(1, 2, 3)", "expected 2 items"),
    ("epochs", "expected section.field=value"),
    ("model.cell=grux", "'grux' is not one of 'rnn', 'lstm', 'gru'"),
    ("model.pooling=avg", "'avg' is not one of 'last', 'mean', 'max', 'attention'"),
    ("model.normalize=True", "True is not one of 'none', 'max', 'cmvn'"),
    ("train.keep=final", "'final' is not one of 'best', 'last'"),
    ("train.epochs=0", "train.epochs=0: must be >= 1"),
    ("train.learning_rate=-0.001", "train.learning_rate=-0.001: must be > 0.0"),
    ("train.ema=1.0", "train.ema=1.0: must be in [0.0, 1.0)"),
    ("train.seed=-1", "train.seed=-1: must be in [0, 4294967295]"),
    ("model.units=0", "model.units=0: must be >= 1"),
    ("model.dropout=1.5", "model.dropout=1.5: must be in [0.0, 1.0)"),
    ("data.noise_prob=1.01", "data.noise_prob=1.01: must be in [0.0, 1.0]"),
    ("data.silence_percent=-5", "data.silence_percent=-5.0: must be in [0.0, 100.0]"),
    ("data.speed=(1.2, 0.8)", "data.speed=(1.2, 0.8): the first must not exceed the second"),
    ("data.speed=(0, 1)", "data.speed=(0.0, 1.0): each must be > 0.0"),
    ("data.tts_pitches=(20, 120)", "data.tts_pitches=(20, 120): each must be in [0, 99]"),
    ("train.schedule=linear", "'linear' is not one of 'constant', 'cosine', 'time_cosine'"),
])
def test_bad_overrides_fail_clearly(override, message):
    with pytest.raises(ZooError, match=re.escape(message)):
        apply_overrides(registry().get("kws_gru_s_fsdd"), [override])


@pytest.mark.parametrize("name", registry().names())
def test_every_recipes_cell_is_a_checked_choice(name):
    """A misspelt cell fails at the override, in every family, before anything is built."""
    recipe = registry().get(name)
    for cell in ("rnn", "lstm", "gru"):
        assert apply_overrides(recipe, [f"model.cell={cell}"]).model.cell == cell
    with pytest.raises(ZooError, match="model.cell: 'GRU' is not one of"):
        apply_overrides(recipe, ["model.cell=GRU"])


def _numeric_fields(recipe):
    for section in Recipe.SECTIONS:
        config = getattr(recipe, section)
        for name, hint in typing.get_type_hints(type(config), include_extras=True).items():
            bare = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
            pair = typing.get_origin(bare) is tuple and typing.get_args(bare) in ((int, int), (float, float))
            if bare in (int, float) or pair:
                yield section, name, hint


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_numeric_field_declares_its_range_and_every_recipe_keeps_to_it(family):
    """A number out of range is one line at `--set`, in every family, not a traceback from deep in Keras."""
    recipes = [r for r in registry() if r.family == family]
    for recipe in recipes:
        for each in (recipe, FAMILIES[family].tiny(recipe)):
            check_values(each)
            FAMILIES[family].check_recipe(each)  # and its fields fit together
    undeclared = [f"{s}.{n}" for s, n, hint in _numeric_fields(recipes[0]) if typing.get_origin(hint) is not
                  typing.Annotated]
    assert undeclared == []


def test_choices_are_checked_however_the_recipe_was_made():
    recipe = registry().get("kws_ugru_s_fsdd")
    check_values(recipe)
    bad = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, keep="final"))
    with pytest.raises(ZooError, match="train.keep='final': choose one of 'best', 'last'"):
        check_values(bad)
    with pytest.raises(ZooError, match="model.cell=True: choose one of"):
        check_values(dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, cell=True)))
    with pytest.raises(ZooError, match=r"train.batch_size=0: must be >= 1"):  # an edited recipe.json, say
        check_values(dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, batch_size=0)))
    with pytest.raises(ZooError, match=r"model.units=True: must be >= 1"):  # JSON's true is not a size
        check_values(dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, units=True)))
    with pytest.raises(ZooError, match=r"data.speed=\(1.1,\): must be a pair"):
        check_values(dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, speed=(1.1,))))


def test_recipe_round_trips_through_json():
    r = apply_overrides(registry().get("kws_gru_s_ttsdigits"), ["data.snr_db=(1.0, 2.0)"])
    assert get(r.family).recipe_from_dict(json.loads(r.to_json())) == r


def test_train_config_defaults_are_sane():
    t = TrainConfig()
    assert t.epochs > 0 and t.batch_size > 0 and t.max_seconds == 0
    assert Recipe.SECTIONS == ("model", "data", "train")
