"""Payroll queries: a period's lines (live or sandboxed under a plan), the rerun diff, and a rep's
statement with a drill-down from every figure to the events it came from."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from adapters.drill_down import describe, event_document
from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import (
    PLAN_PATTERN,
    READ_PROBLEMS,
    MinPosition,
    PeriodPath,
    id_path,
    id_query,
    problems,
)
from adapters.http_problems import NotFound
from adapters.http_rows import Rows
from adapters.tokens import Role
from replay.payroll import diff_document, run_document, statement_document

router = APIRouter(prefix="/payroll", tags=["payroll"])
PAY_READERS: tuple[Role, ...] = ("rep", "manager", "finance", "auditor", "admin")
RERUN_READERS: tuple[Role, ...] = ("finance", "auditor", "admin")
Context = Annotated[Api, Depends(api)]
RepPath = Annotated[str, id_path("The rep.")]
PlanQuery = Annotated[
    str | None, Query(pattern=PLAN_PATTERN, description="NAME@VERSION: sandbox, writes nothing.")
]


@router.get("/{period}/lines", responses=READ_PROBLEMS)
def period_lines(
    period: PeriodPath,
    guard: Guarded,
    context: Context,
    plan: PlanQuery = None,
    rep_id: Annotated[str | None, id_query("Only this rep's lines.")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """The period's ledger lines and per-rep totals, as `payroll run --format json` prints them;
    a rep gets its own lines, a manager its team's, unless `rep_id` names one of them."""
    guard.roles(PAY_READERS, "pay")
    rows = Rows(guard, context.directory)
    if rep_id is not None:
        rows.rep(rep_id)
    with context.reads.ledger(min_position) as (ledger, position):
        document = run_document(ledger, period, plan)
    shown = (lambda rep: rep == rep_id) if rep_id is not None else rows.reps()
    reps = {rep for rep in {line["rep_id"] for line in document["lines"]} if shown(rep)}
    return {
        "period": period,
        "plan": plan,
        "scope": rep_id if rep_id is not None else rows.scope(),
        "lines": [line for line in document["lines"] if line["rep_id"] in reps],
        "totals": {rep: amount for rep, amount in document["totals"].items() if rep in reps},
        "position": position,
    }


@router.get("/{period}/diff", responses=READ_PROBLEMS)
def rerun_diff(
    period: PeriodPath,
    guard: Guarded,
    context: Context,
    plan: Annotated[str, Query(pattern=PLAN_PATTERN, description="NAME@VERSION to compare with.")],
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Per rep: what the period pays now, under `plan`, and the difference a rerun would post."""
    guard.roles(RERUN_READERS, "the rerun diff")
    with context.reads.ledger(min_position) as (ledger, position):
        document = diff_document(ledger, period, plan)
    return {**document, "position": position}


@router.get("/{period}/statements/{rep_id}", responses=READ_PROBLEMS)
def statement(
    period: PeriodPath, rep_id: RepPath, guard: Guarded, context: Context, min_position: MinPosition = None
) -> dict[str, Any]:
    """A rep's pay for the period: each figure, how it was computed, its plan and its events."""
    guard.roles(PAY_READERS, "pay")
    Rows(guard, context.directory).rep(rep_id)
    with context.reads.ledger(min_position) as (ledger, position):
        document = statement_document(ledger, rep_id, period)
    sources = [source for line in document["lines"] for source in line["sources"]]
    return {**document, "events": describe(context.service.store, sources), "position": position}


@router.get("/{period}/statements/{rep_id}/sources/{event_id}", responses=problems(401, 403, 404, 422, 503))
def statement_source(
    period: PeriodPath,
    rep_id: RepPath,
    event_id: Annotated[str, id_path("A source id from the statement (AGGREGATE:VERSION).")],
    guard: Guarded,
    context: Context,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """One event behind a figure of the statement, in full: what was recorded, when, by whom."""
    guard.roles(PAY_READERS, "pay")
    Rows(guard, context.directory).rep(rep_id)
    with context.reads.ledger(min_position) as (ledger, position):
        document = statement_document(ledger, rep_id, period)
    lines = [line for line in document["lines"] if event_id in line["sources"]]
    found = event_document(context.service.store, event_id) if lines else None
    if found is None:
        raise NotFound("event_id", f"{event_id!r} is not a source of {rep_id}'s {period} statement")
    figures = [{k: line.get(k) for k in ("kind", "amount", "plan", "order_id", "corrects")} for line in lines]
    return {**found, "figures": figures, "position": position}
