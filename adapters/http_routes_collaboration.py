"""The SLA board: per department response times, overdue requests and flagged contract clauses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from adapters.bootstrap import system_clock
from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import READ_PROBLEMS, MinPosition
from adapters.sla_board import COLLABORATION, board
from commands.models import Moment

router = APIRouter(tags=["collaboration"])
Context = Annotated[Api, Depends(api)]


@router.get("/sla", responses=READ_PROBLEMS)
def sla_board(
    guard: Guarded,
    context: Context,
    now: Annotated[Moment | None, Query(description="Overdue as of (default: the clock).")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Per department: requests, mean response time, late decisions, open and overdue, breaches and
    the repeat-rejection rate; the requests overdue at `now`; contract clauses flagged as risks."""
    guard.roles(("manager", "presales", "auditor", "admin"), "the SLA board")
    view, position = context.reads.docs(COLLABORATION, min_position)
    report = board(view, context.service.settings.sla_hours, now or system_clock())
    return {**report, "position": position}
