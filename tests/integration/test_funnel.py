"""Funnel health, first-touch follow-up and the watcher, action quality: a small history worked out by
hand, on SQLite and PostgreSQL; a rebuild from scratch gives the read model the live projection has."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Service
from adapters.cli_watch import record_first_touch_overdue
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.settings import Settings
from commands.executor import Executor
from commands.models import RecordFirstTouchOverdue
from commands.store import EventStore
from projections.action_quality import action_quality
from projections.funnel import NAME, FunnelHealth
from projections.funnel_benchmarks import Benchmarks
from projections.funnel_report import funnel_health
from tests.builders import Cmd, activity, at, given, move, open_deal, org, quotation_paperwork, run, token
from tests.cli import salesledger
from tests.conftest import SCENARIOS

# Lead: conversion below 0.8, mean time above 4 days and 10 days' stay are worse than benchmark.
BENCHMARKS = Benchmarks.model_validate(
    {"stages": {"lead": {"conversion": 0.8, "days_in_stage": 4, "stall_days": 10}}, "follow_up_rate": 0.7}
)


def when(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def lose(t: str, deal: str, day: int) -> Cmd:
    return {"type": "LoseDeal", "deal_id": f"{deal}-{t}", "reason": "budget", "occurred_at": at(day)}


def history_until_the_watch(t: str) -> list[Cmd]:
    """Opened on Jan 2, 2, 5 (smb) and 3 (key account), all +08:00; times below are hours of stays."""
    deep_visit = {**activity(t, "deep_visit", "ka", deal="d4"), "occurred_at": at(3, 10)}
    return [
        *org(t),
        # d1: touched after 24 h; lead 48 h, qualified 48 h, needs_confirmed 24 h (back), qualified 24 h.
        open_deal(t, deal="d1", day=2),
        activity(t, "call", deal="d1", day=3),
        move(t, "qualified", deal="d1", day=4),
        move(t, "needs_confirmed", deal="d1", day=6),
        move(t, "qualified", deal="d1", day=7),
        move(t, "needs_confirmed", deal="d1", day=8),
        # d2: never touched (overdue from Jan 5 09:00), lost on Jan 10 after 192 h in lead.
        open_deal(t, deal="d2", day=2),
        # d3: lead 24 h, then blocked into quotation without paperwork; its deadline is Jan 8 09:00.
        open_deal(t, deal="d3", day=5),
        move(t, "qualified", deal="d3", day=6),
        move(t, "quotation", deal="d3", day=7),
        # d4, key account: touched after 1 h, blocked by the role template, won from lead after 216 h.
        open_deal(t, owner="ka", deal="d4", day=3),
        *quotation_paperwork(t, deal="d4"),
        deep_visit,
        move(t, "quotation", rep="ka", deal="d4", day=4),
    ]


def history_after_the_watch(t: str) -> list[Cmd]:
    return [
        activity(t, "call", deal="d3", day=9),  # 96 h after assignment: late
        lose(t, "d2", day=10),
        {
            "type": "BookOrder",
            "order_id": f"o4-{t}",
            "deal_id": f"d4-{t}",
            "amount": "1000",
            "gross_margin": "100",
            "signed_on": "2026-01-12",
            "occurred_at": at(12),
        },
        # d5: opened by smb, reassigned to the key account before any touch, who calls within a day.
        open_deal(t, deal="d5", day=20),
        {"type": "ReassignDeal", "deal_id": f"d5-{t}", "owner_rep_id": f"ka-{t}", "occurred_at": at(21)},
        activity(t, "call", "ka", deal="d5", day=22),
        # February: d1 leaves needs_confirmed after 624 h (entered Jan 8 09:00).
        {**move(t, "solution_demo", deal="d1"), "occurred_at": "2026-02-03T09:00:00+08:00"},
    ]


def play(executor: Executor, commands: list[Cmd]) -> int:
    """Runs commands that must all be accepted, a blocked move included; returns how many were blocked."""
    outcomes = run(executor, *commands)
    assert [o.error for o in outcomes if o.status not in ("applied", "blocked")] == []
    return sum(o.status == "blocked" for o in outcomes)


def stage(report: dict[str, Any], group: str, name: str) -> dict[str, Any]:
    [row] = [r for r in report["stages"] if r["group"] == group and r["stage"] == name]
    return row


def follow(report: dict[str, Any], group: str) -> dict[str, Any]:
    [row] = [r for r in report["follow_up"] if r["group"] == group]
    return row


@pytest.fixture
def funnel(store: EventStore) -> ProjectionRunner:
    return ProjectionRunner(store, open_doc_view(store), FunnelHealth, batch_size=7)


def test_hand_checked_funnel_follow_up_and_watcher(
    store: EventStore, executor: Executor, funnel: ProjectionRunner
) -> None:
    t = token()
    smb, ka = f"smb-{t}", f"ka-{t}"
    service = Service(Settings(), store, executor)
    assert play(executor, history_until_the_watch(t)) == 2

    # The watcher on Jan 6: only d2 is past its deadline untouched; a second sweep records nothing.
    first = record_first_touch_overdue(service, when(at(6)))
    assert [(r["deal_id"], r["rep_id"]) for r in first["recorded"]] == [(f"d2-{t}", smb)]
    assert record_first_touch_overdue(service, when(at(6)))["recorded"] == []
    # The aggregate is the guard, not the read model: asked directly again, it writes nothing.
    again = executor.execute(
        RecordFirstTouchOverdue(type="RecordFirstTouchOverdue", deal_id=f"d2-{t}", now=when(at(7)))
    )
    assert again.accepted and again.position is None
    # At the deadline itself (Jan 8 09:00) d3 is overdue.
    assert [r["deal_id"] for r in record_first_touch_overdue(service, when(at(8)))["recorded"]] == [f"d3-{t}"]

    given(executor, *history_after_the_watch(t))
    assert record_first_touch_overdue(service, when(at(31)))["recorded"] == []
    funnel.catch_up()

    january = funnel_health(funnel.view, "2026-01", None, BENCHMARKS, when("2026-03-01T00:00:00+08:00"))
    lead = stage(january, "all", "lead")
    assert (lead["entered"], lead["advanced"], lead["regressed"], lead["lost"]) == (5, 3, 0, 1)
    assert lead["conversion"] == 0.6  # d5 is still in lead
    # Stays ended in January: 24 (d3), 48 (d1), 192 (d2), 216 (d4) hours.
    assert lead["time_in_stage_hours"] == {"stays": 4, "mean": 120.0, "p50": 48.0, "p90": 216.0}
    # d5 entered Jan 20 09:00: 11.6 days in lead at the end of January, above the 10 configured.
    assert lead["stalled_deals"] == [{"deal_id": f"d5-{t}", "owner": ka, "days": 11.6}]
    assert lead["flags"] == ["conversion", "time_in_stage", "stalled"]

    qualified = stage(january, "all", "qualified")
    assert (qualified["entered"], qualified["advanced"], qualified["regressed"]) == (3, 2, 0)
    assert qualified["conversion"] == 0.6667
    assert qualified["time_in_stage_hours"] == {"stays": 2, "mean": 36.0, "p50": 24.0, "p90": 48.0}
    # d3 has been in qualified since Jan 6 09:00: 25.6 days by the end of January (benchmark 21).
    assert [(d["deal_id"], d["days"]) for d in qualified["stalled_deals"]] == [(f"d3-{t}", 25.6)]

    needs = stage(january, "all", "needs_confirmed")
    assert (needs["entered"], needs["advanced"], needs["regressed"], needs["conversion"]) == (2, 1, 1, 0.5)
    assert needs["time_in_stage_hours"]["stays"] == 1 and needs["time_in_stage_hours"]["mean"] == 24.0

    quotation = stage(january, "all", "quotation")
    assert (quotation["entered"], quotation["blocked"]) == (0, 2)
    assert quotation["missing"] == {
        "activity:competitor_analysis": 1,
        "activity:deep_visit": 1,
        "activity:exec_intro": 1,
        "demo_report": 1,
        "document:requirement_confirmation|meeting_minutes": 1,
    }
    assert quotation["conversion"] is None and quotation["flags"] == []

    # Follow-up: six assignments (d5 twice); in SLA d1, d4 and d5 (key account); d3 late; d2
    # untouched; d5 withdrawn from smb before its deadline; overdue recorded for d2 and d3.
    overall = follow(january, "all")
    assert overall == {
        "group": "all",
        "assigned": 6,
        "touched_within_sla": 3,
        "touched_late": 1,
        "untouched": 1,
        "withdrawn": 1,
        "overdue_recorded": 2,
        "rate": 0.6,  # 3 of the 5 that could be missed
        "benchmark": 0.7,
        "flags": ["follow_up"],
    }

    by_rep = funnel_health(funnel.view, "2026-01", "rep", BENCHMARKS, when("2026-03-01T00:00:00+08:00"))
    assert (follow(by_rep, smb)["assigned"], follow(by_rep, smb)["rate"]) == (4, 0.3333)
    assert (follow(by_rep, ka)["assigned"], follow(by_rep, ka)["rate"], follow(by_rep, ka)["flags"]) == (
        2,
        1.0,
        [],
    )
    assert stage(by_rep, ka, "quotation")["blocked"] == 1
    assert stage(by_rep, ka, "lead")["stalled"] == 1  # d5's owner at the end of January
    by_team = funnel_health(funnel.view, "2026-01", "team", BENCHMARKS, when("2026-03-01T00:00:00+08:00"))
    south, east = stage(by_team, "south", "lead"), stage(by_team, "east", "lead")
    assert (south["entered"], south["advanced"], south["lost"], south["conversion"]) == (4, 2, 1, 0.5)
    assert (east["entered"], east["advanced"], east["conversion"]) == (1, 1, 1.0)
    assert follow(by_team, "east")["touched_within_sla"] == 2

    # February: needs_confirmed's stay ended after 624 h is February's; its cohort stays January's.
    # Stalled now (Feb 10 09:00, the open period): d3 in qualified 35 days, d5 in lead 21 days.
    february = funnel_health(funnel.view, "2026-02", None, BENCHMARKS, when(at(10).replace("-01-", "-02-")))
    assert stage(february, "all", "needs_confirmed")["time_in_stage_hours"]["mean"] == 624.0
    assert stage(february, "all", "needs_confirmed")["entered"] == 0
    assert stage(february, "all", "solution_demo")["entered"] == 1
    assert [d["days"] for d in stage(february, "all", "qualified")["stalled_deals"]] == [35.0]
    assert [d["days"] for d in stage(february, "all", "lead")["stalled_deals"]] == [21.0]
    assert february["stalled_as_of"].startswith("2026-02-10T09:00")
    assert february["follow_up"] == []

    quality = action_quality(funnel.view, "2026-01", dict(funnel.view.kind(NAME, "rep")), {})
    reps = {row["rep"]: row for row in quality["reps"]}
    assert reps[smb]["activities"] == {"call": 2}
    assert (reps[smb]["deals_worked"], reps[smb]["stage_moves"], reps[smb]["blocked_moves"]) == (2, 5, 1)
    assert reps[smb]["template"] == []
    assert reps[ka]["activities"] == {"call": 1, "deep_visit": 1}
    assert reps[ka]["missing"] == {
        "activity:competitor_analysis": 1,
        "activity:deep_visit": 1,
        "activity:exec_intro": 1,
    }
    # d4 was won from lead: booking passes no gate, so the template shows what it skipped.
    deep = next(row for row in reps[ka]["template"] if row["kind"] == "deep_visit")
    assert deep == {
        "stage": "quotation",
        "kind": "deep_visit",
        "required_per_deal": 3,
        "logged": 1,
        "per_deal_worked": 0.5,
        "deals_passing_stage": 1,
        "deals_meeting_template": 0,
        "flagged": True,
    }
    # smb's lead stays ended in January: d1 48, d2 192, d3 24 h; its team (south) is smb alone.
    [lead_time] = reps[smb]["time_in_stage"][:1]
    assert lead_time == {
        "stage": "lead",
        "stays": 3,
        "mean_hours": 88.0,
        "team_mean_hours": 88.0,
        "slower_than_team": False,
    }


def test_rebuild_gives_the_live_read_model(store: EventStore, executor: Executor) -> None:
    t = token()
    view = open_doc_view(store)
    live = ProjectionRunner(store, view, FunnelHealth, batch_size=3)
    service = Service(Settings(), store, executor)
    play(executor, history_until_the_watch(t))
    live.catch_up()
    record_first_touch_overdue(service, when(at(8)))
    for command in history_after_the_watch(t):
        given(executor, command)
        live.catch_up()
    # A restarted process reloads its state and goes on where it stopped.
    play(executor, [activity(t, "demo", deal="d1", day=28), move(t, "quotation", deal="d3", day=29)])
    ProjectionRunner(store, view, FunnelHealth, batch_size=2).catch_up()

    verified = ProjectionRunner(store, view, FunnelHealth).verify()
    assert verified["saved"] == verified["replayed"]
    saved = view.everything(NAME)
    ProjectionRunner(store, view, FunnelHealth, batch_size=1000).rebuild()
    assert view.everything(NAME) == saved


def test_funnel_cli_on_the_public_scenario(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported = salesledger(database_url, "import", str(SCENARIOS / "small-org" / "history.jsonl"))
    assert imported.returncode == 1, imported.stderr  # some moves are refused on purpose
    now = ("--now", "2026-06-01T00:00:00+08:00")
    result = salesledger(database_url, "funnel", "--period", "2026-01", *now, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Line 47: d-009 tried quotation without a demo report, the one blocked move of January.
    quotation = stage(report, "all", "quotation")
    assert (quotation["blocked"], quotation["missing"]) == (1, {"demo_report": 1})
    # Five deals opened in January (d-000, d-001, d-009, d-010, d-011), each left lead for qualified.
    lead = stage(report, "all", "lead")
    assert (lead["entered"], lead["advanced"], lead["conversion"]) == (5, 5, 1.0)
    # Six assignments: five touched in time, d-000 reassigned from r-ch1 four hours after opening.
    overall = follow(report, "all")
    assert (overall["assigned"], overall["touched_within_sla"], overall["withdrawn"]) == (6, 5, 1)
    assert overall["rate"] == 1.0

    table = salesledger(database_url, "funnel", "--period", "2026-02", "--by", "team")
    assert table.returncode == 0, table.stderr
    assert "quotation" in table.stdout and "worse than benchmark" in table.stdout
    watch = salesledger(database_url, "watch", "first-touch", *now, "--format", "json")
    assert watch.returncode == 0, watch.stderr
    assert json.loads(watch.stdout)["recorded"] == []  # every deal in the scenario was touched
    quality = salesledger(
        database_url, "quality", "--period", "2026-01", "--rep", "r-ka1", "--format", "json"
    )
    assert quality.returncode == 0, quality.stderr
    assert [row["rep"] for row in json.loads(quality.stdout)["reps"]] == ["r-ka1"]
    unknown = salesledger(database_url, "quality", "--period", "2026-01", "--rep", "nobody")
    assert unknown.returncode != 0 and "rep_id: unknown rep 'nobody'" in unknown.stderr

    # Benchmarks from a YAML file, over the defaults: January's lead stays (mean 63.8 h) now too long.
    config = tmp_path / "benchmarks.yaml"
    config.write_text("stages:\n  lead: {days_in_stage: 2}\nfollow_up_rate: 0.5\n", encoding="utf-8")
    monkeypatch.setenv("SALESLEDGER_FUNNEL_BENCHMARKS", str(config))
    strict = json.loads(
        salesledger(database_url, "funnel", "--period", "2026-01", *now, "--format", "json").stdout
    )
    lead = stage(strict, "all", "lead")
    assert lead["time_in_stage_hours"]["mean"] == 63.8 and lead["flags"] == ["time_in_stage"]
    assert lead["benchmark"] == {"conversion": 0.5, "days_in_stage": 2.0, "stall_days": 14.0}
    monkeypatch.setenv("SALESLEDGER_FUNNEL_BENCHMARKS", '{"stages": {"lead": {"conversion": 2}, "won": {}}}')
    bad = salesledger(database_url, "funnel", "--period", "2026-01")
    assert bad.returncode != 0
    assert "stages.lead.conversion: Input should be less than or equal to 1" in bad.stderr
    assert "stages.won" in bad.stderr


def test_quality_cli_shows_action_tags_read_from_transcripts(database_url: str, executor: Executor) -> None:
    t = token()
    talk = {"transcript": "The price is too high and a competitor quoted us lower. Next step: a demo."}
    given(
        executor,
        *org(t),
        open_deal(t),
        {**activity(t, "call", day=3), **talk},
        activity(t, "call", day=4),
        {**activity(t, "call"), **talk, "occurred_at": "2026-02-02T09:00:00+08:00"},  # not January's
    )
    result = salesledger(
        database_url, "quality", "--period", "2026-01", "--rep", f"smb-{t}", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)["reps"]
    assert row["activities"] == {"call": 2}
    assert row["tags"] == {"competitor_mentioned": 1, "next_step_agreed": 1, "price_objection": 1}
    text = salesledger(database_url, "quality", "--period", "2026-01", "--rep", f"smb-{t}")
    assert "tags: competitor_mentioned 1" in text.stdout
