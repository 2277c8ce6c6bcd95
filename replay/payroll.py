"""Payroll documents from the ledger: a period's lines (live or sandboxed under another plan),
the per-rep diff between the two, and a rep's statement with every figure's sources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from domain.pay_history import Line
from projections.ledger import Ledger

ZERO = Decimal(0)


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def line_document(line: Line) -> dict[str, Any]:
    doc: dict[str, Any] = {"rep_id": line.rep_id, "kind": line.kind, "amount": money(line.amount)}
    doc["plan"] = line.plan
    if line.order_id is not None:
        doc["order_id"] = line.order_id
    if line.corrects is not None:
        doc["corrects"] = line.corrects
    doc["sources"] = list(line.sources)
    return doc


def totals(lines: Iterable[Line]) -> dict[str, Decimal]:
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line.rep_id] += line.amount
    return {rep_id: sums[rep_id] for rep_id in sorted(sums)}


def period_lines(ledger: Ledger, period: str, plan: str | None = None) -> list[Line]:
    """The live ledger of the period, or with `plan` a sandbox computation that changes nothing."""
    if plan is None:
        return ledger.lines(period)
    ledger.facts.plan(plan)
    return ledger.entitlement(period, plan)


def run_document(ledger: Ledger, period: str, plan: str | None = None) -> dict[str, Any]:
    lines = period_lines(ledger, period, plan)
    return {
        "period": period,
        "lines": [line_document(line) for line in lines],
        "totals": {rep_id: money(amount) for rep_id, amount in totals(lines).items()},
    }


def live_totals(ledger: Ledger, period: str) -> dict[str, Decimal]:
    """What the period pays now: posted so far once closed, its entitlement while open."""
    if ledger.is_closed(period):
        return ledger.posted(period)
    return totals(ledger.entitlement(period))


def diff_document(ledger: Ledger, period: str, plan: str) -> dict[str, Any]:
    """Per rep, the live figure against the figure under `plan`: what applying a rerun would post."""
    live = live_totals(ledger, period)
    candidate = totals(period_lines(ledger, period, plan))
    reps = []
    for rep_id in sorted(set(live) | set(candidate)):
        before, after = live.get(rep_id, ZERO), candidate.get(rep_id, ZERO)
        reps.append(
            {
                "rep_id": rep_id,
                "live": money(before),
                "candidate": money(after),
                "difference": money(after - before),
            }
        )
    closed = ledger.closed.get(period)
    live_plan = closed.plan if closed else ledger.facts.governing_plan(period)
    return {
        "period": period,
        "closed": closed is not None,
        "live_plan": live_plan,
        "plan": plan,
        "reps": reps,
        "total": {
            "live": money(sum(live.values(), ZERO)),
            "candidate": money(sum(candidate.values(), ZERO)),
            "difference": money(sum(candidate.values(), ZERO) - sum(live.values(), ZERO)),
        },
    }


def statement_document(ledger: Ledger, rep_id: str, period: str) -> dict[str, Any]:
    """A rep's pay for the period, each figure with how it was computed, its sources and its plan."""
    lines = [line for line in ledger.lines(period) if line.rep_id == rep_id]
    plans = sorted({line.plan for line in lines})
    return {
        "rep_id": rep_id,
        "period": period,
        "closed": ledger.is_closed(period),
        "total": money(sum((line.amount for line in lines), ZERO)),
        "lines": [
            {**line_document(line), "bonus_id": line.bonus_id, "explanation": line.explanation}
            for line in lines
        ],
        "plans": {key: ledger.facts.plan_documents[key] for key in plans},
    }


def export_rows(lines: Iterable[Line]) -> list[dict[str, str]]:
    return [
        {
            "period": line.period,
            "rep_id": line.rep_id,
            "kind": line.kind,
            "amount": money(line.amount),
            "plan": line.plan,
            "order_id": line.order_id or "",
            "corrects": line.corrects or "",
            "bonus_id": line.bonus_id or "",
            "sources": " ".join(line.sources),
            "explanation": line.explanation,
        }
        for line in lines
    ]
