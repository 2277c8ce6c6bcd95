"""The collaboration SLA board, the SLA deadline watcher and contract clause risks, on both stores:
a hand-built history with every number of the board worked out by hand."""

from __future__ import annotations

import json
from typing import Any

from adapters.projection_runner import ProjectionRunner, open_doc_view
from commands.executor import Executor
from commands.store import EventStore
from projections.collaboration import CollaborationBoard
from tests.builders import Cmd, at, given, open_deal, org, run, token
from tests.cli import salesledger

SLA_BREACHED = "domain.requirement:RequirementRequest.SlaBreached"


def submit(t: str, request: str, deal: str, departments: list[str], day: int, hour: int = 9) -> Cmd:
    return {
        "type": "SubmitRequirement",
        "request_id": f"{request}-{t}",
        "deal_id": f"{deal}-{t}",
        "departments": departments,
        "occurred_at": at(day, hour),
    }


def decide(t: str, request: str, department: str, decision: str, day: int, hour: int, minute: int = 0) -> Cmd:
    return {
        "type": "DecideRequirement",
        "request_id": f"{request}-{t}",
        "department": department,
        "decision": decision,
        "by": f"{department}-lead",
        "reason": "not feasible" if decision == "reject" else None,
        "occurred_at": f"2026-01-{day:02d}T{hour:02d}:{minute:02d}:00+08:00",
    }


def contract(t: str, contract_id: str, term: int, penalty: str) -> Cmd:
    return {
        "type": "SubmitContract",
        "contract_id": f"{contract_id}-{t}",
        "deal_id": f"d-{t}",
        "payment_term_days": term,
        "penalty_ratio": penalty,
        "occurred_at": at(8),
    }


def cli_json(database_url: str, *args: str) -> Any:
    result = salesledger(database_url, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def breaches_in_store(store: EventStore) -> list[tuple[str, int]]:
    notifications = store.recorder.select_notifications(start=1, limit=10_000, topics=[SLA_BREACHED])
    return [(str(n.originator_id), n.originator_version) for n in notifications]


def test_sla_board_watcher_and_contract_risks(
    database_url: str, store: EventStore, executor: Executor
) -> None:
    t = token()
    given(
        executor,
        *org(t),
        open_deal(t, deal="d"),
        open_deal(t, deal="d2"),
        # q1: presales 1 h (on time), legal rejects after 6 h (deadline 4 h: late), delivery 0.5 h.
        submit(t, "q1", "d", ["presales", "legal", "delivery"], day=5),
        decide(t, "q1", "delivery", "approve", 5, 9, 30),
        decide(t, "q1", "presales", "approve", 5, 10),
        decide(t, "q1", "legal", "reject", 5, 15),
        # q2 re-submits deal d to legal, rejected again after 2 h.
        submit(t, "q2", "d", ["legal"], day=6),
        decide(t, "q2", "legal", "reject", 6, 11),
        # q3: legal rejects deal d2 after 3 h; presales (deadline 01-06 11:00) stays silent.
        submit(t, "q3", "d2", ["presales", "legal"], day=6),
        decide(t, "q3", "legal", "reject", 6, 12),
        # q4: nobody answers; delivery is due 01-07 10:00, legal 01-07 13:00.
        submit(t, "q4", "d2", ["legal", "delivery"], day=7),
        contract(t, "k1", 91, "0.2"),
        contract(t, "k2", 90, "0.25"),
        contract(t, "k3", 90, "0.2"),
    )

    first = cli_json(database_url, "watch", "sla", "--now", "2026-01-07T12:00:00+08:00")
    assert [(b["request_id"], b["department"]) for b in first["recorded"]] == [
        (f"q3-{t}", "presales"),
        (f"q4-{t}", "delivery"),
    ]
    assert first["recorded"][0]["deadline"] == "2026-01-06T11:00:00+08:00"
    assert len(breaches_in_store(store)) == 2

    again = cli_json(database_url, "watch", "sla", "--now", "2026-01-07T12:00:00+08:00")
    assert again["recorded"] == [] and again["requests_checked"] == 0
    assert len(breaches_in_store(store)) == 2

    # A decision after the breach is still taken (late); the breach stays on the board.
    given(executor, decide(t, "q3", "presales", "approve", 7, 14))
    # A deadline equal to the watcher's instant is due: q4 legal, not the decided q3 presales.
    third = cli_json(database_url, "watch", "sla", "--now", "2026-01-07T13:00:00+08:00")
    assert [(b["request_id"], b["department"]) for b in third["recorded"]] == [(f"q4-{t}", "legal")]
    assert len(breaches_in_store(store)) == 3

    board = cli_json(database_url, "sla", "--now", "2026-01-07T15:00:00+08:00")
    lines = {line["department"]: line for line in board["departments"]}
    assert lines["presales"] == {
        "department": "presales",
        "sla_hours": 2,
        "requests": 2,
        "decided": 2,
        "approved": 2,
        "rejected": 0,
        "mean_response_hours": "15.00",  # (1 h + 29 h) / 2
        "late_decisions": 1,
        "open": 0,
        "overdue": 0,
        "breaches": 1,
        "rejected_deals": 0,
        "repeat_rejected_deals": 0,
        "repeat_rejection_rate": None,
    }
    assert lines["legal"] == {
        "department": "legal",
        "sla_hours": 4,
        "requests": 4,
        "decided": 3,
        "approved": 0,
        "rejected": 3,
        "mean_response_hours": "3.67",  # (6 + 2 + 3) / 3
        "late_decisions": 1,
        "open": 1,
        "overdue": 1,
        "breaches": 1,
        "rejected_deals": 2,  # d (twice), d2 (once)
        "repeat_rejected_deals": 1,
        "repeat_rejection_rate": "0.5000",
    }
    assert lines["delivery"] == {
        "department": "delivery",
        "sla_hours": 1,
        "requests": 2,
        "decided": 1,
        "approved": 1,
        "rejected": 0,
        "mean_response_hours": "0.50",
        "late_decisions": 0,
        "open": 1,
        "overdue": 1,
        "breaches": 1,
        "rejected_deals": 0,
        "repeat_rejected_deals": 0,
        "repeat_rejection_rate": None,
    }
    assert [
        (o["request_id"], o["department"], o["overdue_hours"], o["breached"]) for o in board["overdue"]
    ] == [
        (f"q4-{t}", "delivery", "5.00", True),
        (f"q4-{t}", "legal", "2.00", True),
    ]
    assert all(o["deal_id"] == f"d2-{t}" and o["customer_id"] == f"c-{t}" for o in board["overdue"])

    # Payment term 91 and penalty 0.25 are risks; 90 days and 0.2 are not.
    assert [(r["contract_id"], r["rule"], r["detail"]) for r in board["contract_risks"]] == [
        (f"k1-{t}", "payment_term", "payment term 91 days > 90"),
        (f"k2-{t}", "penalty_ratio", "penalty ratio 0.25 > 0.2"),
    ]
    assert {(r["deal_id"], r["customer_id"]) for r in board["contract_risks"]} == {(f"d-{t}", f"c-{t}")}

    # Before any deadline passed, nothing is overdue: the board is as of the instant asked.
    early = cli_json(database_url, "sla", "--now", "2026-01-07T09:30:00+08:00")
    assert early["overdue"] == [] and {line["overdue"] for line in early["departments"]} == {0}
    assert {line["department"]: line["open"] for line in early["departments"]}["legal"] == 1

    text = salesledger(database_url, "sla", "--now", "2026-01-07T15:00:00+08:00")
    assert text.returncode == 0, text.stderr
    assert "SLA board" in text.stdout and f"k2-{t}" in text.stdout and "penalty_ratio" in text.stdout

    runner = ProjectionRunner(store, open_doc_view(store), CollaborationBoard, batch_size=3)
    verified = runner.verify()
    assert verified["saved"] == verified["replayed"]


def test_watcher_refuses_nothing_and_breach_commands_are_idempotent(
    executor: Executor, store: EventStore
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t), submit(t, "q", "d", ["delivery"], day=5))
    sweep = {"type": "RecordSlaBreaches", "request_id": f"q-{t}", "now": at(5, 9)}
    [early] = run(executor, sweep)
    assert early.status == "applied" and early.position is None
    late = {**sweep, "now": at(5, 10)}
    [first] = run(executor, late)
    assert first.position is not None
    [second] = run(executor, late)
    assert second.status == "applied" and second.position is None
    assert len(breaches_in_store(store)) == 1
    [unknown] = run(executor, {**late, "request_id": "nope"})
    assert unknown.status == "refused" and (unknown.error or "").startswith("request_id: unknown")
    [naive] = run(executor, {**late, "now": "2026-01-05T10:00:00"})
    assert naive.status == "refused" and "now" in (naive.error or "")
