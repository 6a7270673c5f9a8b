"""The family contract, for every registered family and recipe, at tiny sizes.

Each recipe: its parameter count without building equals the built model's.
Each recipe that builds or reads something another does not (recipes that
differ only in their cell count once): at test size it trains a few steps on
the family's own sample data, saves, reloads in Keras safe mode with the same
outputs, exports, and checks the export. The first recipe of each family exports every format and quantization
its capabilities declare; `zoo.load` gives an object with the declared verbs,
and the gate view works on the family's input kind. Nothing here names a family.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.load import load_run
from zoo.families.registry import FAMILIES, registry
from zoo.nn import reference
from zoo.nn.recurrent import gate_layers, layer_input


def _shape(recipe):
    """What a recipe builds and reads, whatever its cell: recipes that differ only in `model.cell` (or in
    training settings) train the same code, and every cell trains in `test_compare_through_the_contract`."""
    model = dataclasses.replace(recipe.model, cell="-") if hasattr(recipe.model, "cell") else recipe.model
    return recipe.family, model, recipe.data


CASES, _seen = [], set()
for _family in FAMILIES.values():
    _recipes = [r for r in registry() if r.family == _family.name]
    for _i, _recipe in enumerate(_recipes):
        if _shape(_recipe) in _seen:
            continue
        _seen.add(_shape(_recipe))
        _formats = [(fmt, q) for fmt in _family.capabilities.formats
                    for q in (_family.capabilities.quantize if fmt == "tflite" else ("none",))]
        for _fmt, _q in (_formats if _i == 0 else [("tflite", "none")]):
            CASES.append(pytest.param(_recipe.name, _fmt, _q, id=f"{_recipe.name}-{_fmt}-{_q}"))


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory):
    """Each family's sample data set, written once: name -> (folder, the default recipe's --data spec)."""
    data = {}
    for family in FAMILIES.values():
        folder = tmp_path_factory.mktemp(f"sample_{family.name}")
        data[family.name] = (family.sample_data(folder), folder)
    return data


def _spec(family, recipe, sample_data) -> str:
    """The --data spec `recipe` reads the family's sample folder with."""
    return family.sample_data(sample_data[family.name][1], recipe)


@pytest.fixture(scope="session")
def trained(sample_data, tmp_path_factory):
    """Trains each recipe at test size once, on demand: name -> run directory."""
    runs = {}
    data_root = tmp_path_factory.mktemp("data_root")

    def get(name):
        if name not in runs:
            recipe = registry().get(name)
            family = FAMILIES[recipe.family]
            tiny = family.tiny(recipe)
            tiny = family.with_data(tiny, _spec(family, tiny, sample_data))
            _, runs[name] = zoo.train(tiny, tmp_path_factory.mktemp("runs") / name, data_root=data_root,
                                      verbose=0)
        return runs[name]

    get.data_root = data_root
    return get


def test_every_family_implements_the_whole_contract():
    abstract = {name for name, member in inspect.getmembers(Family) if getattr(member, "__isabstractmethod__", False)}
    assert abstract  # the contract declares its hooks
    for family in FAMILIES.values():
        assert not getattr(type(family), "__abstractmethods__", None), family.name
        caps = family.capabilities
        assert caps.input_kind in ("audio", "text", "video", "sequence") and caps.verbs
        assert set(caps.formats) <= {"savedmodel", "tflite"} and set(caps.quantize) <= {"none", "dynamic", "int8"}
        assert family.recipes() and all(r.family == family.name for r in family.recipes())


@pytest.mark.parametrize("name", registry().names())
def test_parameter_count_without_building_matches_keras(name):
    recipe = registry().get(name)
    family = FAMILIES[recipe.family]
    assert family.count_params(recipe) == family.build(recipe, family.default_meta(recipe)).count_params()


@pytest.mark.parametrize("name, fmt, quantize", CASES)
def test_recipe_trains_reloads_exports_and_checks_itself(name, fmt, quantize, trained, tmp_path):
    run_dir = trained(name)
    recipe, family, model = load_run(run_dir, FAMILIES)  # safe mode
    assert family.count_params(recipe, family.load_meta(run_dir)) == model.count_params()
    report = zoo.export(run_dir, fmt, quantize, out=tmp_path / ("sm" if fmt == "savedmodel" else "m.tflite"),
                        data_root=trained.data_root)
    assert report["size_bytes"] > 0 and Path(report["file"]).exists()
    if quantize == "none":
        assert report["max_logit_diff"] < 1e-3
    served = zoo.load(report["file"])
    for verb in family.capabilities.verbs:
        assert callable(getattr(served, verb))


def _sample_input(family, folder: Path) -> str:
    if family.capabilities.input_kind == "audio":
        return str(sorted(folder.rglob("*.wav"))[0])
    if family.capabilities.input_kind == "video":
        return str(sorted(folder.rglob("*.mp4"))[0])
    if family.capabilities.input_kind == "sequence":
        return str(sorted(folder.rglob("*.npy"))[0])
    return "the quick brown"


@pytest.mark.parametrize("family_name", list(FAMILIES))
def test_gates_and_inference_through_the_contract(family_name, trained, sample_data, tmp_path):
    family = FAMILIES[family_name]
    name = next(r.name for r in registry() if r.family == family_name)
    run_dir = trained(name)
    source = _sample_input(family, sample_data[family_name][1])
    result = zoo.gates(run_dir, source, out=tmp_path / "g.png", npz=tmp_path / "g.npz")
    assert (tmp_path / "g.png").stat().st_size > 10_000 and result["steps"] > 1
    values = np.load(tmp_path / "g.npz")
    assert values["forward_h"].shape[0] == result["steps"]
    served = zoo.load(run_dir)
    if "predict" in family.capabilities.verbs:  # as `zoo predict` runs it: a result and its line per input
        text = family.capabilities.input_kind == "text"
        results = served.predict([source]) if text else list(served.predict_files([Path(source)], 2))
        assert results and all("error" not in r and source in served.describe(r) for r in results)
    if "generate" in family.capabilities.verbs:
        assert len(served.generate(source, length=7, seed=1)) == 7
    if "caption" in family.capabilities.verbs:
        (result,) = served.caption([source], beam=2)
        assert isinstance(result["caption"], str) and result["ms_per_caption"] > 0


@pytest.mark.parametrize("family_name", list(FAMILIES))
def test_recurrent_layers_follow_the_reference_cells(family_name, trained, sample_data):
    """Every recurrent layer of a trained model, on what it reads from a real input, equals the NumPy
    textbook cells (`zoo.nn.reference`) to 1e-5: the cells are what the gate view and the docs say."""
    family = FAMILIES[family_name]
    run_dir = trained(next(r.name for r in registry() if r.family == family_name))
    recipe, _, model = load_run(run_dir, FAMILIES)
    source = _sample_input(family, sample_data[family_name][1])
    batch = family.gate_input(recipe, family.load_meta(run_dir), source).batch
    for layer in gate_layers(model):
        x = layer_input(model, layer, batch)
        if isinstance(layer, keras.layers.TimeDistributed):  # one weight set over items: every item in turn
            layer, x = layer.layer, x.reshape(-1, *x.shape[2:])
        np.testing.assert_allclose(np.asarray(layer(x)), reference.run_layer(layer, x), atol=1e-5,
                                   err_msg=f"{family_name}: {layer.name}")


@pytest.mark.parametrize("family_name", list(FAMILIES))
def test_gradients_through_the_contract(family_name, trained, tmp_path):
    run_dir = trained(next(r.name for r in registry() if r.family == family_name))
    _, _, model = load_run(run_dir, FAMILIES)
    if isinstance(gate_layers(model)[0], keras.layers.TimeDistributed):  # one sequence per item: refused
        with pytest.raises(ZooError, match="gradients measure models whose first recurrent layer reads one"):
            zoo.gradients([run_dir], out=tmp_path / "grad.png", data_root=trained.data_root, inputs=4)
        assert not list(tmp_path.iterdir())
        return
    result = zoo.gradients([run_dir], out=tmp_path / "grad.png", data_root=trained.data_root, inputs=4)
    (run,) = json.loads((tmp_path / "grad.json").read_text())["curves"]
    assert (tmp_path / "grad.png").stat().st_size > 10_000 and result["runs"][0]["inputs"] == run["inputs"] <= 4
    assert len(run["norms"]) == run["steps"] > 1 and np.all(np.isfinite(run["norms"]))
    assert max(run["norms"]) > 0


@pytest.mark.parametrize("family_name", list(FAMILIES))
def test_compare_through_the_contract(family_name, sample_data, trained, tmp_path):
    family = FAMILIES[family_name]
    tiny = family.tiny(next(r for r in registry() if r.family == family_name))
    tiny = family.with_data(tiny, _spec(family, tiny, sample_data))
    result = zoo.compare(tiny, ("rnn", "gru"), seeds=1, out=tmp_path / "cmp", data_root=trained.data_root)
    table = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    rnn, gru = table["cells"]
    assert [rnn["cell"], gru["cell"]] == ["rnn", "gru"] and gru["params"] > rnn["params"]
    for line in table["cells"]:
        assert line["validation_mean"] is not None and line["litert_kb"] > 0 and line["litert_ms"] > 0
        assert (line["test_mean"] is None) == (family.headline.test is None)
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 10_000
    assert "| rnn | 1 |" in (tmp_path / "cmp" / "compare.md").read_text() and result["cells"] == table["cells"]
    _, _, model = load_run(tmp_path / "cmp" / "gru_seed0", FAMILIES)
    if not isinstance(gate_layers(model)[0], keras.layers.TimeDistributed):  # (refused: the gradients test)
        curves = zoo.gradients(recipe=tiny, cells=("rnn", "gru"), runs_dir=tmp_path / "cmp",
                               data_root=trained.data_root, inputs=4)  # the compared runs, not new ones
        assert [r["cell"] for r in curves["runs"]] == ["rnn", "gru"]
        assert curves["figure"] == str(tmp_path / "cmp" / "gradients.png")
        assert sorted(p.name for p in (tmp_path / "cmp").iterdir() if p.is_dir()) == ["gru_seed0", "rnn_seed0"]
