"""What-if sweeps over simulated histories: at the point equal to the live plan the sweep pays exactly
what the live ledger pays, on both stores; worker processes change nothing; bad grids name the rule."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import yaml

from commands.store import EventStore
from projections.ledger import Ledger
from replay.payroll import money
from replay.recompute import fold
from replay.sweep_grid import parse_axis
from replay.whatif import Sweep, parse_periods, run_sweep
from tests.cli import salesledger
from tests.simulated import simulated_store

YEAR = parse_periods("2026-01..2026-12")


def owed(ledger: Ledger, period: str) -> dict[str, Decimal]:
    """Per rep, what the live ledger owes for the period's own work, from its lines: posted (frozen
    lines and adjustments correcting it) plus the adjustments to it pending in the first open period."""
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    if ledger.is_closed(period):
        for rep_id, amount in ledger.posted(period).items():
            sums[rep_id] += amount
        pending = ledger.lines(ledger.first_open) if ledger.first_open else []
        for line in pending:
            if line.kind == "adjustment" and line.corrects == period:
                sums[line.rep_id] += line.amount
    else:
        for line in ledger.lines(period):
            if line.kind != "adjustment":
                sums[line.rep_id] += line.amount
    return {rep_id: amount for rep_id, amount in sums.items() if amount}


def untouched(ledger: Ledger, period: str) -> bool:
    """No adjustment is paid in the period, none corrects it, and it was never rerun."""
    everything = [line for p in {*ledger.closed, ledger.first_open} if p for line in ledger.lines(p)]
    closed = ledger.closed.get(period)
    return (
        not any(line.kind == "adjustment" for line in ledger.lines(period))
        and not any(line.corrects == period for line in everything)
        and not (closed and closed.reruns)
    )


def test_the_point_equal_to_the_live_plan_pays_exactly_the_live_ledger(
    store: EventStore, database_url: str, tmp_path: Path
) -> None:
    simulated_store(store, reps=6, deals=150, months=12, seed=5)
    ledger = fold(store)
    assert len(ledger.closed) == 11 and any(c.reruns for c in ledger.closed.values())
    # Both plans of the year have a 90-day clawback and a 1.5 scorecard cap: one point is live everywhere.
    axes = [parse_axis("clawback_days=60..120:30"), parse_axis("scorecard.cap=1.25..1.75:0.25")]
    document = run_sweep(ledger, Sweep("live", YEAR, axes))

    assert len(document["points"]) == 9
    live = [point for point in document["points"] if point["matches_live"]]
    assert [point["values"] for point in live] == [{"clawback_days": "90", "scorecard.cap": "1.5"}]
    point = live[0]
    assert point["payout"] == document["live"]["payout"] and point["difference"] == "0.00"
    assert point["reps_moved"] == 0
    # Against the ledger's own lines, period by period and rep by rep.
    by_rep: defaultdict[str, Decimal] = defaultdict(Decimal)
    for period, figures in zip(YEAR, point["periods"], strict=True):
        expected = owed(ledger, period)
        assert figures["payout"] == money(sum(expected.values(), Decimal(0))), period
        for rep_id, amount in expected.items():
            by_rep[rep_id] += amount
    assert {rep["rep_id"]: rep["candidate"] for rep in point["reps"]} == {
        rep_id: money(amount) for rep_id, amount in by_rep.items() if amount
    }
    # Where nothing was adjusted or rerun, that is simply the total of the period's ledger lines.
    plain = [period for period in YEAR if untouched(ledger, period)]
    assert plain, "the history should have periods no adjustment touched"
    for period, figures in zip(YEAR, point["periods"], strict=True):
        if period in plain:
            assert figures["payout"] == money(sum((line.amount for line in ledger.lines(period)), Decimal(0)))
    # What payroll pays in each period is the ledger's lines, adjustments to other periods included.
    for figures in document["live"]["periods"]:
        lines = ledger.lines(figures["period"])
        assert figures["payroll"] == money(sum((line.amount for line in lines), Decimal(0)))
    # The other points move pay, and say by how much.
    assert any(p["difference"] != "0.00" for p in document["points"] if not p["matches_live"])

    # The CLI with a plan file equal to standard@2 over the months it governs: same exact figures.
    plan_file = tmp_path / "candidate.yaml"
    plan_file.write_text(yaml.safe_dump(ledger.facts.plan_documents["standard@2"]), encoding="utf-8")
    result = salesledger(
        database_url,
        *("whatif", str(plan_file), "--periods", "2026-07..2026-12"),
        *("--sweep", "rates.first_order=4%..5%:0.5%", "--format", "json"),
    )
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)
    assert [p["values"]["rates.first_order"] for p in cli["points"]] == ["0.04", "0.045", "0.05"]
    assert [p["matches_live"] for p in cli["points"]] == [False, True, False]
    assert cli["points"][1]["payout"] == cli["live"]["payout"] and cli["points"][1]["difference"] == "0.00"
    assert [f["payout"] for f in cli["points"][1]["periods"]] == [
        money(sum(owed(ledger, period).values(), Decimal(0))) for period in YEAR[6:]
    ]
    lower, higher = (Decimal(cli["points"][i]["payout"]) for i in (0, 2))
    assert lower < Decimal(cli["live"]["payout"]) < higher


def test_worker_processes_give_the_same_document_as_one_process() -> None:
    ledger = fold(simulated_store(reps=6, deals=120, months=6, seed=9))
    sweep = Sweep(
        "live",
        parse_periods("2026-01..2026-06"),
        [
            parse_axis("bonuses[0].rate=0.4%..1.2%:0.4%"),
            parse_axis("accelerators.bands[1].from=0.9..1.1:0.2"),
        ],
    )
    serial = run_sweep(ledger, sweep, workers=1)
    parallel = run_sweep(ledger, sweep, workers=2)
    assert len(serial["points"]) == 6
    assert json.dumps(parallel, sort_keys=True) == json.dumps(serial, sort_keys=True)


def test_reps_moved_counts_changes_past_the_threshold() -> None:
    ledger = fold(simulated_store(reps=6, deals=120, months=2, seed=4))
    # January was closed, then rerun under standard@2 (first orders at 4.5 %): doubling that rate.
    assert ledger.closed["2026-01"].plan == "standard@2"
    rates = parse_axis("rates.first_order=0.045..0.09:0.045")
    document = run_sweep(ledger, Sweep("live", ["2026-01"], [rates], threshold_pct=Decimal(5)))
    same, doubled = document["points"]
    assert same["matches_live"] and same["reps_moved"] == 0
    moved = [rep for rep in doubled["reps"] if rep["moved"]]
    assert doubled["reps_moved"] == len(moved) > 0
    for rep in doubled["reps"]:
        if rep["change_pct"] is None:
            assert rep["moved"] == (rep["difference"] != "0.00")
        else:
            assert rep["moved"] == (abs(Decimal(rep["change_pct"])) > 5)
    assert Decimal(doubled["payout_to_revenue"]) > Decimal(same["payout_to_revenue"])
    assert same["credited_revenue"] == doubled["credited_revenue"]


def test_the_cli_refuses_a_bad_sweep_naming_the_field_and_the_rule(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = salesledger(url, "whatif", "live", "--periods", "2026-01", "--sweep", "clawback_days=90..60:10")
    assert result.returncode != 0
    assert "sweep clawback_days: FROM (90) must not exceed TO (60)" in result.stderr
    result = salesledger(url, "whatif", "live", "--periods", "2026-1")
    assert result.returncode != 0 and "periods: FROM '2026-1' is not a period" in result.stderr
