"""What `salesledger demo` tells about the organisation it simulated: the last month's funnel, the SLA
board, the pay of the last closed period and what rerunning it under the other plan would change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from adapters.doc_view import DocView
from adapters.settings import Settings
from adapters.sla_board import board
from commands.store import EventStore
from domain.rep import Rep
from projections.funnel_benchmarks import Benchmarks
from projections.funnel_report import funnel_health
from projections.ledger import Ledger
from replay.payroll import diff_document, live_totals, money

TOP_EARNERS = 3


def funnel_summary(view: DocView, period: str, benchmarks: Benchmarks, now: datetime) -> dict[str, Any]:
    report = funnel_health(view, period, None, benchmarks, now)
    stages = [
        {key: row[key] for key in ("stage", "entered", "advanced", "lost", "conversion", "stalled", "flags")}
        for row in report["stages"]
    ]
    follow = report["follow_up"][0] if report["follow_up"] else None
    return {"period": period, "stages": stages, "follow_up": follow}


def sla_summary(view: DocView, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    keys = ("department", "sla_hours", "requests", "mean_response_hours", "late_decisions", "overdue")
    return [{key: row[key] for key in keys} for row in board(view, settings.sla_hours, now)["departments"]]


def rep_name(store: EventStore, rep_id: str) -> str:
    try:
        rep: Any = store.repository.get(Rep.create_id(rep_id))
    except AggregateNotFoundError:
        return rep_id
    return str(rep.name)


def payroll_summary(store: EventStore, ledger: Ledger, period: str) -> dict[str, Any]:
    paid = live_totals(ledger, period)
    top = sorted(paid.items(), key=lambda item: (-item[1], item[0]))[:TOP_EARNERS]
    closed = ledger.closed.get(period)
    return {
        "period": period,
        "plan": closed.plan if closed else ledger.facts.governing_plan(period),
        "reps": len(paid),
        "total": money(sum(paid.values(), Decimal(0))),
        "top": [
            {"rep_id": rep_id, "name": rep_name(store, rep_id), "amount": money(amount)}
            for rep_id, amount in top
        ],
    }


def rerun_summary(ledger: Ledger, period: str) -> dict[str, Any] | None:
    """The period against every other published plan; None when only one plan was ever published."""
    closed = ledger.closed.get(period)
    live_plan = closed.plan if closed else ledger.facts.governing_plan(period)
    others = sorted(key for key in ledger.facts.plan_documents if key != live_plan)
    if not others:
        return None
    document = diff_document(ledger, period, others[-1])
    changed = [rep for rep in document["reps"] if Decimal(rep["difference"]) != 0]
    return {
        "period": period,
        "live_plan": document["live_plan"],
        "plan": document["plan"],
        "total": document["total"],
        "reps_changed": len(changed),
        "reps": len(document["reps"]),
    }


def last_closed(ledger: Ledger) -> str | None:
    return max(ledger.closed, default=None)


def summary(
    store: EventStore,
    settings: Settings,
    view: DocView,
    ledger: Ledger,
    last_period: str,
    benchmarks: Benchmarks,
    now: datetime,
) -> dict[str, Any]:
    closed = last_closed(ledger)
    return {
        "funnel": funnel_summary(view, last_period, benchmarks, now),
        "sla": sla_summary(view, settings, now),
        "payroll": None if closed is None else payroll_summary(store, ledger, closed),
        "rerun": None if closed is None else rerun_summary(ledger, closed),
    }
