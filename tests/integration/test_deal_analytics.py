"""Heat map, flows, team diagnosis and deal features on a three-deal history whose numbers can be
checked by hand, in memory and through the CLI on SQLite."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.persistence import open_store
from commands.context import Context
from commands.executor import Executor
from commands.store import EventStore
from domain.stages import Stage
from projections.deal_journeys import Journeys
from replay.deal_features import feature_table
from replay.diagnosis import Benchmarks, diagnose
from replay.flows import flows
from replay.heatmap import EffortHours, heatmap
from replay.journeys import fold_journeys
from tests.builders import activity, at, book, given, move, open_deal, org, quotation_paperwork, run, token
from tests.cli import salesledger
from tests.conftest import FixedClock
from tests.simulated import memory_store

LEAD_BENCHMARK = {"stages": {"lead": {"days": 1, "conversion": 0.8}}, "min_sample": 1}


def history(store: EventStore) -> None:
    """d: smb (south) works it, a presales demo, quotation on day 5, won on day 6 with margin 30,000;
    e: smb, lost from lead on day 6; f: key account (east), never touched, still open."""
    t = token()
    presales = {
        "type": "OnboardRep",
        "rep_id": f"ps-{t}",
        "name": "Wang Fang",
        "role": "presales",
        "team": "east",
        "region": "CN-E",
        "occurred_at": at(1),
    }
    lose = {"type": "LoseDeal", "deal_id": f"e-{t}", "reason": "price", "occurred_at": at(6)}
    executor = Executor(store, Context(clock=FixedClock()))
    given(
        executor, *org(t), presales, open_deal(t), open_deal(t, deal="e"), open_deal(t, owner="ka", deal="f")
    )
    # Quoting before the paperwork is refused by the gate, and the refusal is kept.
    (refused,) = run(executor, move(t, "quotation", day=3, hour=8))
    assert refused.status == "blocked"
    given(
        executor,
        activity(t, "call"),
        *quotation_paperwork(t),
        activity(t, "demo", rep="ps", day=4),
        move(t, "quotation", day=5),
        book(t, amount="100000", margin="30000", day=6),
        activity(t, "call", deal="e"),
        lose,
    )


@pytest.fixture(scope="module")
def journeys() -> Journeys:
    store = memory_store()
    history(store)
    return fold_journeys(store)


def test_heatmap_cells_hold_investment_and_return(journeys: Journeys) -> None:
    document = heatmap(journeys)
    assert document["cells"] == [
        {
            "industry": "retail",
            "region": "CN-E",
            "product_line": "PLC",
            "deals": 1,
            "won": 1,
            "win_rate": "1.000",
            "activities": 2,
            "presales_hours": "4",
            "margin": "30000.00",
            "margin_per_activity": "15000.00",
            "margin_per_presales_hour": "7500.00",
        },
        {
            "industry": "retail",
            "region": "CN-E",
            "product_line": "none",
            "deals": 1,
            "won": 0,
            "win_rate": "0.000",
            "activities": 1,
            "presales_hours": "0",
            "margin": "0.00",
            "margin_per_activity": "0.00",
            "margin_per_presales_hour": None,
        },
    ]
    assert document["total"]["deals"] == 2 and document["total"]["margin_per_activity"] == "10000.00"
    shorter = heatmap(journeys, hours=EffortHours().with_overrides({"demo": Decimal(2)}))
    assert shorter["cells"][0]["margin_per_presales_hour"] == "15000.00"
    assert heatmap(journeys, periods={"2026-02"})["cells"] == []
    with pytest.raises(ValueError, match=r"hours: lunch is not an activity kind or review"):
        EffortHours().with_overrides({"lunch": Decimal(1)})


def test_flows_run_from_team_to_furthest_stage_to_outcome_to_margin(journeys: Journeys) -> None:
    document = flows(journeys)
    assert document["deals"] == 3
    links = {(link["source"], link["target"]): (link["deals"], link["margin"]) for link in document["links"]}
    assert links == {
        ("team:east", "stage:lead"): (1, "0.00"),
        ("team:south", "stage:lead"): (1, "0.00"),
        ("team:south", "stage:quotation"): (1, "30000.00"),
        ("stage:lead", "outcome:lost"): (1, "0.00"),
        ("stage:lead", "outcome:open"): (1, "0.00"),
        ("stage:quotation", "outcome:won"): (1, "30000.00"),
        ("outcome:lost", "margin:no margin"): (1, "0.00"),
        ("outcome:open", "margin:no margin"): (1, "0.00"),
        ("outcome:won", "margin:< 50,000"): (1, "30000.00"),
    }
    assert [node["id"] for node in document["nodes"]][:3] == ["team:east", "team:south", "stage:lead"]
    by_industry = flows(journeys, by="industry", bands=[Decimal(10_000)])
    assert ("outcome:won", "margin:>= 10,000") in {(x["source"], x["target"]) for x in by_industry["links"]}
    assert flows(journeys, periods={"2025-12"})["deals"] == 0


def test_diagnosis_tells_the_largest_gaps_with_their_numbers(journeys: Journeys) -> None:
    document = diagnose(journeys, "2026-01", Benchmarks.from_config(LEAD_BENCHMARK))
    teams = {team["team"]: team for team in document["teams"]}
    assert teams["south"]["sentences"] == [
        "team south spends 250 % longer in lead than the benchmark: 3.5 days on average over 2 stays "
        "that ended in 2026-01, against 1.0",
        "team south converts 38 % less from lead than the benchmark: 50% of the 2 deals that entered it "
        "in 2026-01 moved on, against 80%",
    ]
    assert [gap["impact"] for gap in teams["south"]["gaps"]] == [5.0, 0.75]
    assert teams["east"]["sentences"] == [
        "team east converts 100 % less from lead than the benchmark: 0% of the 1 deals that entered it "
        "in 2026-01 moved on, against 80%",
        "team east first-touches 100 % fewer assigned deals within the SLA than the benchmark: 0% of 1 "
        "assignments in 2026-01, against 90%",
    ]
    # Against the organisation, south's lead time is the norm (both ended stays are south's).
    org = diagnose(journeys, "2026-01", Benchmarks(min_sample=1), against="org", teams=["south"])
    assert org["teams"][0]["sentences"] == [
        "team south has no measured gap worse than the organisation in 2026-01"
    ]
    # With the default minimum sample, one or two deals say nothing.
    assert all(team["gaps"] == [] for team in diagnose(journeys, "2026-01")["teams"])
    with pytest.raises(ValueError, match=r"stages.closing: not a funnel stage"):
        Benchmarks.from_config({"stages": {"closing": {"days": 3}}})


def test_deal_features_are_taken_when_the_deal_reached_the_stage(journeys: Journeys) -> None:
    table = feature_table(journeys, Stage.QUOTATION)
    assert table.not_reached == 1  # e was lost from lead; f is still open and not counted
    (row,) = table.rows
    assert row.won
    values = row.values
    assert (values["calls"], values["demos"], values["visits"], values["exec_intro"]) == (1, 1, 0, 0)
    assert values["blocked_moves"] == 1 and values["split_credit"] == 0
    assert values["weeks_in_lead"] == pytest.approx(3 / 7)
    assert values["weeks_in_solution_demo"] == 0
    assert (values["demo_outcome"], values["industry"], values["team"], values["role"]) == (
        "positive",
        "retail",
        "south",
        "smb",
    )
    at_lead = feature_table(journeys, Stage.LEAD)
    assert {row.won for row in at_lead.rows} == {True, False} and at_lead.rows[0].values["calls"] == 0


def test_the_cli_answers_as_json_and_as_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    store = open_store(url)
    try:
        history(store)
        expected = heatmap(fold_journeys(store))
    finally:
        store.close()
    result = salesledger(url, "heatmap", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    result = salesledger(url, "flows", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["deals"] == 3
    result = salesledger(
        url, "diagnosis", "--period", "2026-01", "--benchmarks", json.dumps(LEAD_BENCHMARK), "--team", "south"
    )
    assert result.returncode == 0, result.stderr
    assert "team south spends 250 % longer in lead than the benchmark" in result.stdout
    result = salesledger(url, "attribution")
    assert result.returncode == 0, result.stderr
    assert "no attribution: data too thin: 1 closed deals reached the stage; at least 100" in result.stdout
    result = salesledger(url, "heatmap", "--metric", "margin")
    assert result.returncode == 0 and "30000.00" in result.stdout
    bad = salesledger(
        url, "diagnosis", "--period", "2026-01", "--benchmarks", '{"stages": {"lead": {"days": 0}}}'
    )
    assert bad.returncode != 0 and "diagnosis benchmarks: stages.lead.days" in bad.stderr
