"""The model's refusals and the factors it leaves out, on hand-made tables."""

from __future__ import annotations

import random

from domain.stages import Stage
from replay.attribution import attribute
from replay.deal_features import DealRow, Feature, FeatureTable

FEATURES = [
    Feature("calls", "count", "each call"),
    Feature("twice_calls", "count", "each pair of calls"),
    Feature("split_credit", "flag", "split credit"),
    Feature("industry", "category", "industry"),
]


def table(rows: list[tuple[bool, float, float, str]]) -> FeatureTable:
    return FeatureTable(
        Stage.QUOTATION,
        FEATURES,
        [
            DealRow(
                f"d-{i}",
                won,
                {"calls": calls, "twice_calls": 2 * calls, "split_credit": split, "industry": ind},
            )
            for i, (won, calls, split, ind) in enumerate(rows)
        ],
        not_reached=0,
    )


def test_constant_collinear_and_rare_levels_are_left_out_with_why() -> None:
    rng = random.Random(3)
    rows = [
        (
            rng.random() < 0.5,
            float(rng.randint(0, 6)),
            0.0,
            "retail" if i % 2 else ("energy" if i > 3 else "mining"),
        )
        for i in range(400)
    ]
    document = attribute(table(rows))
    assert not document["refused"]
    assert {d["factor"]: d["reason"] for d in document["dropped"]} == {
        "split_credit": "the same for every deal",
        "twice_calls": "determined by the other factors (collinear)",
        "industry=other": "2 deals in levels under 10 deals each: counted with retail",
    }
    # The most common level is the reference; the two mining deals are too few to be a level.
    assert sorted(f["factor"] for f in document["factors"]) == ["calls", "industry=energy"]
    assert {f["label"] for f in document["factors"]} >= {"industry energy (against retail)"}
    assert document["significant"] == []


def test_a_perfect_separation_is_refused_not_reported() -> None:
    rows = [(i % 2 == 0, float(i % 2 == 0), 0.0, "retail") for i in range(300)]
    document = attribute(table(rows), only=["calls"])
    assert document["refused"]
    assert "the model cannot be fitted" in document["reason"]


def test_too_few_of_one_outcome_is_refused() -> None:
    rows = [(i < 15, float(i % 4), 0.0, "retail") for i in range(300)]
    document = attribute(table(rows))
    assert (
        document["refused"] and document["reason"] == "data too thin: only 15 won deals; at least 20 of each"
    )
