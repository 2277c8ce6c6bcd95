"""The threshold rule engine on both stores: a region's weekly complaint rate (complaints logged in the
ISO week ÷ customers of the region registered by the week's end) above 1.8 % two weeks running records
one ServiceImprovementTriggered per region and pair of weeks, once."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.projection_runner import ProjectionRunner, open_doc_view
from commands.executor import Executor
from commands.store import EventStore
from projections.customer_service import CustomerService
from tests.builders import Cmd, given, token
from tests.cli import salesledger

TRIGGERED = "domain.service_alerts:ServiceAlerts.ServiceImprovementTriggered"
# 2026-01-01 is in ISO week 2026-W01; W02 is 01-05..01-11, W03 01-12..01-18, W04 01-19..01-25.
REGISTERED_ON = "2026-01-01T09:00:00+08:00"


def customers(t: str, region: str, count: int, on: str = REGISTERED_ON, first: int = 0) -> list[Cmd]:
    return [
        {
            "type": "RegisterCustomer",
            "customer_id": f"{region}-{n}-{t}",
            "name": f"Customer {n}",
            "industry": "retail" if n % 2 else "energy",
            "region": f"{region}-{t}",
            "occurred_at": on,
        }
        for n in range(first, first + count)
    ]


def complaint(t: str, region: str, day: int, n: int = 0) -> Cmd:
    return {
        "type": "LogComplaint",
        "customer_id": f"{region}-{n}-{t}",
        "note": "late delivery",
        "occurred_at": f"2026-01-{day:02d}T15:00:00+08:00",
    }


def check(database_url: str, now: str, *args: str) -> Any:
    result = salesledger(database_url, "alerts", "check", "--now", now, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def fired(report: Any) -> list[tuple[str, list[str], str]]:
    return [(f["group"], f["windows"], f["status"]) for rule in report["rules"] for f in rule["fired"]]


def triggers_in_store(store: EventStore) -> int:
    return len(store.recorder.select_notifications(start=1, limit=10_000, topics=[TRIGGERED]))


def test_two_weeks_above_threshold_trigger_once(
    database_url: str, store: EventStore, executor: Executor
) -> None:
    t = token()
    given(
        executor,
        # A: 1 of 55 = 1.82 % in W02 and in W03. B: 1 of 56 = 1.79 %, never above.
        # C: 1 of 10 in W02 only: one week above is not enough.
        *customers(t, "A", 55),
        *customers(t, "B", 56),
        *customers(t, "C", 10),
        complaint(t, "A", 6),
        complaint(t, "A", 13),
        complaint(t, "B", 6),
        complaint(t, "B", 13),
        complaint(t, "C", 7),
    )
    a, c = f"A-{t}", f"C-{t}"

    # W03 has not ended on Sunday evening: only W02 (and W01) are measured.
    sunday = check(database_url, "2026-01-18T23:00:00+08:00")
    assert sunday["recorded"] == 0 and fired(sunday) == []
    assert [w["window"] for w in sunday["rules"][0]["latest"][a]] == ["2026-W01", "2026-W02"]

    monday = check(database_url, "2026-01-19T09:00:00+08:00")
    assert monday["recorded"] == 1
    assert fired(monday) == [(a, ["2026-W02", "2026-W03"], "recorded")]
    [firing] = monday["rules"][0]["fired"]
    assert [Decimal(v) for v in firing["values"]] == [Decimal(1) / 55] * 2
    latest = monday["rules"][0]["latest"]
    assert [(w["window"], w["complaints"], w["customers"]) for w in latest[c]] == [
        ("2026-W02", 1, 10),
        ("2026-W03", 0, 10),
    ]
    assert triggers_in_store(store) == 1

    again = check(database_url, "2026-01-20T09:00:00+08:00")
    assert again["recorded"] == 0
    assert fired(again) == [(a, ["2026-W02", "2026-W03"], "already_recorded")]
    assert triggers_in_store(store) == 1

    # W04: one complaint, but a 56th customer registered in W04 counts from W04 on: 1/56 is not above.
    given(executor, *customers(t, "A", 1, on="2026-01-20T09:00:00+08:00", first=55), complaint(t, "A", 21))
    week4 = check(database_url, "2026-01-26T09:00:00+08:00")
    assert week4["recorded"] == 0
    assert [(w["window"], w["customers"]) for w in week4["rules"][0]["latest"][a]] == [
        ("2026-W03", 55),
        ("2026-W04", 56),
    ]
    # A second W04 complaint (2/56) makes W03-W04 a new pair of weeks running: one more trigger.
    given(executor, complaint(t, "A", 22, n=1))
    pair = check(database_url, "2026-01-26T09:00:00+08:00")
    assert fired(pair) == [
        (a, ["2026-W02", "2026-W03"], "already_recorded"),
        (a, ["2026-W03", "2026-W04"], "recorded"),
    ]
    assert triggers_in_store(store) == 2

    runner = ProjectionRunner(store, open_doc_view(store), CustomerService, batch_size=7)
    verified = runner.verify()
    assert verified["saved"] == verified["replayed"]


def test_rules_are_configuration(database_url: str, executor: Executor, tmp_path: Path) -> None:
    t = token()
    given(executor, *customers(t, "A", 4), complaint(t, "A", 6, n=0), complaint(t, "A", 7, n=2))
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {id: energy-complaints, metric: complaints, grouping: industry, threshold: 1,\n"
        "     consecutive: 1, window: week, event: ServiceImprovementTriggered}\n"
    )
    # Customers 0 and 2 are in energy: two complaints in W02 exceed 1; retail has none.
    report = check(database_url, "2026-01-12T00:00:00+08:00", "--rules", str(rules))
    assert fired(report) == [("energy", ["2026-W02"], "recorded")]

    rules.write_text("- {id: x, metric: complaints, grouping: planet, threshold: -1, consecutive: 1}\n")
    bad = salesledger(database_url, "alerts", "check", "--rules", str(rules))
    assert bad.returncode != 0
    assert "0.grouping" in bad.stderr and "0.threshold" in bad.stderr and "0.window" in bad.stderr
