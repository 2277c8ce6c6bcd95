"""Win-factor attribution on simulated histories with fixed seeds: a planted effect is recovered within
its reported interval; without one nothing is reported significant; thin data is refused."""

from __future__ import annotations

from typing import Any

import pytest

from domain.stages import Stage
from replay.attribution import attribute
from replay.attribution_rules import Rules
from replay.deal_features import feature_table
from replay.journeys import fold_journeys
from tests.cli import salesledger
from tests.simulated import simulated_store

HISTORY: dict[str, Any] = {"reps": 20, "deals": 2000, "months": 6}


def attribution(seed: int, plant: dict[str, float] | None, **history: Any) -> dict[str, Any]:
    store = simulated_store(plant=plant, seed=seed, **{**HISTORY, **history})
    return attribute(feature_table(fold_journeys(store)))


@pytest.fixture(scope="module")
def planted() -> dict[str, Any]:
    return attribution(seed=2, plant={"exec_intro": 3.0})


def factor(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in document["factors"] if f["factor"] == name)


def test_a_planted_effect_is_recovered_within_its_interval(planted: dict[str, Any]) -> None:
    assert not planted["refused"]
    assert planted["significant"] == ["exec_intro"]
    exec_intro = factor(planted, "exec_intro")
    low, high = exec_intro["ci95"]
    assert low < 3.0 < high and low > 1
    assert exec_intro["p_holm"] < 0.05
    assert exec_intro["sentence"].startswith("an exec introduction multiplies the odds of winning by ")
    sample = planted["sample"]
    assert sample["won"] + sample["lost"] == sample["deals"] >= 500
    assert sample["events_per_parameter"] >= 10
    assert planted["at_stage"] == "quotation"
    # Categories are levels against the most common one, each its own factor.
    assert any(f["factor"].startswith("industry=") and "(against " in f["label"] for f in planted["factors"])


def test_without_a_planted_effect_nothing_is_significant() -> None:
    document = attribution(seed=1, plant={})
    assert not document["refused"]
    assert document["significant"] == []
    assert all(not f["significant"] and f["p_holm"] >= 0.05 for f in document["factors"])
    low, high = factor(document, "exec_intro")["ci95"]
    assert low < 1 < high


def test_thin_data_is_refused_with_the_rule_it_breaks() -> None:
    document = attribution(seed=3, plant={"exec_intro": 3.0}, deals=150)
    assert document["refused"] and document["factors"] == [] and document["significant"] == []
    assert document["reason"].startswith("data too thin: ")
    assert document["sample"]["deals"] < Rules().min_deals


def test_fewer_features_need_less_data_and_unknown_ones_are_named() -> None:
    store = simulated_store(plant={"exec_intro": 3.0}, seed=3, reps=20, deals=600, months=6)
    table = feature_table(fold_journeys(store))
    assert attribute(table)["refused"]
    narrow = attribute(table, only=["exec_intro", "calls", "split_credit"])
    assert not narrow["refused"] and narrow["sample"]["parameters"] == 3
    assert "exec_intro" in narrow["significant"]
    with pytest.raises(ValueError, match=r"features: unknown feature wins at quotation"):
        attribute(table, only=["wins"])
    earlier = feature_table(fold_journeys(store), Stage.SOLUTION_DEMO)
    assert {f.name for f in earlier.features} >= {"weeks_in_needs_confirmed"}
    assert "weeks_in_solution_demo" not in {f.name for f in earlier.features}


def test_the_simulator_refuses_an_unknown_planted_factor(tmp_path: Any) -> None:
    result = salesledger(f"sqlite:///{tmp_path / 'x.db'}", "simulate", "--deals", "5", "--plant", "luck=2")
    assert result.returncode != 0
    assert "plant: luck cannot be planted (plantable: exec_intro, split_credit)" in result.stderr


@pytest.mark.parametrize(("odds", "won_with_intro"), [(1e9, True), (1e-9, False)])
def test_a_planting_decides_endings_by_the_factor_at_quotation(odds: float, won_with_intro: bool) -> None:
    journeys = fold_journeys(simulated_store(plant={"exec_intro": odds}, seed=4, reps=8, deals=300, months=3))
    rows = feature_table(journeys).rows
    with_intro = [row.won for row in rows if row.values["exec_intro"]]
    without = [row.won for row in rows if not row.values["exec_intro"]]
    assert len(with_intro) > 20 and len(without) > 20
    assert set(with_intro) == {won_with_intro}
    # Deals without the factor keep even odds.
    assert 0.3 < sum(without) / len(without) < 0.7
