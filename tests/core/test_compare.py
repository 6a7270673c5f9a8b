"""`zoo compare`'s pieces that need no training: spreads, metric paths, cell checks, the table."""

import dataclasses
import json

import pytest

import zoo
from zoo.core.compare import check_cells, dig, markdown, mean_sd
from zoo.core.errors import ZooError
from zoo.families.registry import FAMILIES, registry


def test_mean_and_sample_spread():
    assert mean_sd([0.97, 0.98, 0.99]) == (0.98, 0.01)
    assert mean_sd([0.5]) == (0.5, None) and mean_sd([]) == (None, None)


def test_metric_paths_reach_into_nested_metrics():
    metrics = {"validation_accuracy": 0.9, "test": {"CIDEr": 1.5}}
    assert dig(metrics, "validation_accuracy") == 0.9 and dig(metrics, "test.CIDEr") == 1.5
    assert dig(metrics, "test.BLEU-4") is None and dig(metrics, None) is None


def test_only_known_cells_of_a_recipe_with_a_cell():
    recipe = registry().get("kws_gru_s_fsdd")
    check_cells(recipe, ["rnn", "lstm", "gru"])
    with pytest.raises(ZooError, match="--cells rnn,transformer: choose from rnn, lstm, gru"):
        check_cells(recipe, ["rnn", "transformer"])
    cell_less = dataclasses.make_dataclass("NoCell", [("units", int, 4)], frozen=True)()
    with pytest.raises(ZooError, match="has no model.cell to compare"):
        check_cells(dataclasses.replace(recipe, model=cell_less), ["gru"])


def test_the_table_has_a_row_per_cell_and_says_which_way_is_better():
    line = {"seeds": 2, "validation_mean": 1.61, "validation_sd": 0.02, "test_mean": None, "test_sd": None,
            "params": 278433, "train_seconds_mean": 190, "litert_kb": 1090.1, "litert_ms": 0.4}
    table = markdown("chargen_gru_s_pydocs", FAMILIES["chargen"],
                     [dict(line, cell="rnn"), dict(line, cell="gru", validation_mean=1.5)])
    assert "bits per character (lower is better)" in table
    assert "| rnn | 2 | 1.61 (0.02) | - | 278,433 | 190 | 1090.1 | 0.4 |" in table
    assert table.count("\n| ") == 3  # header and two cells


def test_finished_runs_are_reused(tmp_path):
    family = FAMILIES["chargen"]
    tiny = family.tiny(registry().get("chargen_gru_s_pydocs"))
    tiny = family.with_data(tiny, family.sample_data(tmp_path / "text", tiny))
    first = zoo.compare(tiny, ("gru",), seeds=1, out=tmp_path / "cmp", data_root=tmp_path / "data")
    metrics = tmp_path / "cmp" / "gru_seed0" / "metrics.json"
    written = metrics.stat().st_mtime_ns
    again = zoo.compare(tiny, ("gru",), seeds=1, out=tmp_path / "cmp", data_root=tmp_path / "data")
    assert metrics.stat().st_mtime_ns == written  # nothing trained again
    assert again["cells"][0]["validation_mean"] == first["cells"][0]["validation_mean"]
    runs = json.loads((tmp_path / "cmp" / "compare.json").read_text())["runs"]
    assert [r["reused"] for r in runs] == [True]
    other = dataclasses.replace(tiny, model=dataclasses.replace(tiny.model, units=5))
    with pytest.raises(ZooError, match=r"gru_seed0: a finished run with other settings \(model.units\)"):
        zoo.compare(other, ("gru",), seeds=1, out=tmp_path / "cmp", data_root=tmp_path / "data")
