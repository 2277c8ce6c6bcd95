"""Audit queries: a subject's trail (deal, customer, rep, order, period, ...) and its state as of any
instant, by business or recorded time; the hash-chain check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from adapters.audit_entries import AGGREGATES
from adapters.audit_entries import trail as subject_trail
from adapters.audit_verify import verify_chain
from adapters.cli_audit import SUBJECTS
from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import READ_PROBLEMS, MinPosition, id_path, problems
from adapters.http_problems import NotFound
from adapters.http_rows import Rows
from commands.models import Moment
from replay.as_of import state_as_of

router = APIRouter(prefix="/audit", tags=["audit"])
Context = Annotated[Api, Depends(api)]
Subject = Literal["deal", "customer", "rep", "order", "contact", "requirement", "contract", "period"]
assert sorted(SUBJECTS) == sorted(Subject.__args__)  # type: ignore[attr-defined]


def _moment(entry: dict[str, Any], by: str) -> datetime:
    text = entry["occurred_at"] if by == "business" and entry["occurred_at"] else entry["recorded_at"]
    return datetime.fromisoformat(text)


@router.get("/verify", responses=READ_PROBLEMS)
def verify(guard: Guarded, context: Context, min_position: MinPosition = None) -> dict[str, Any]:
    """Recompute the hash chain from the stored events; name the first position that differs."""
    guard.roles(("auditor", "admin"), "the audit chain check")
    view, position = context.reads.docs("audit", min_position)
    check = verify_chain(context.service.store, view)
    return {
        "intact": check.intact,
        "checked": check.checked,
        "first_difference": check.first_difference,
        "detail": check.detail,
        "position": position,
    }


@router.get("/{subject}/{subject_id}", responses=problems(401, 403, 404, 422, 503))
def trail(
    subject: Subject,
    subject_id: Annotated[str, id_path("The subject's business id (a period: YYYY-MM).")],
    guard: Guarded,
    context: Context,
    as_of: Annotated[
        Moment | None, Query(description="Only what was true at this instant (ISO 8601 with zone).")
    ] = None,
    by: Annotated[
        Literal["business", "recorded"], Query(description="Which time `as_of` reads.")
    ] = "recorded",
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Every event of the subject in store order, with actor, both times and what changed; with
    `as_of`, only the events by then and the aggregate's state at that instant."""
    Rows(guard, context.directory).audit_subject(subject, subject_id)
    view, position = context.reads.docs("audit", min_position)
    entries = subject_trail(context.service.store, view, subject, subject_id)
    if not entries:
        raise NotFound("subject_id", f"no {subject} {subject_id!r} in the history")
    state = None
    if as_of is not None:
        entries = [entry for entry in entries if _moment(entry, by) <= as_of]
        if subject in AGGREGATES:
            aggregate_id = AGGREGATES[subject].create_id(subject_id)
            state = state_as_of(context.service.store, aggregate_id, as_of, by)
    return {
        "subject": subject,
        "id": subject_id,
        "as_of": as_of.isoformat() if as_of else None,
        "by": by,
        "state": state,
        "events": entries,
        "position": position,
    }
