"""Funnel health per stage and period, for the whole funnel, per team or per rep."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from adapters.bootstrap import system_clock
from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import PERIOD_PATTERN, READ_PROBLEMS, MinPosition, id_query
from adapters.http_problems import ProblemError
from adapters.http_rows import Rows
from commands.models import Moment
from projections.funnel import NAME
from projections.funnel_report import funnel_health

router = APIRouter(tags=["funnel"])
Context = Annotated[Api, Depends(api)]


@router.get("/funnel", responses=READ_PROBLEMS)
def funnel(
    guard: Guarded,
    context: Context,
    period: Annotated[str, Query(pattern=PERIOD_PATTERN, description="Period YYYY-MM.")],
    by: Annotated[Literal["team", "rep"] | None, Query(description="Default: the whole funnel.")] = None,
    group: Annotated[str | None, id_query("Only this team or rep (with `by`).")] = None,
    now: Annotated[Moment | None, Query(description="Stalled as of (default: the clock).")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Entered, advanced, regressed, lost, conversion, time in stage, stalled and blocked deals per
    stage, and first-touch follow-up; worse than benchmark is flagged. A rep sees its own rows
    (`by=rep`), a manager its team's (`by=team` or `by=rep`)."""
    guard.roles(("rep", "manager", "auditor", "admin"), "the funnel")
    rows = Rows(guard, context.directory)
    shown = _reach(guard, rows, by, group)
    view, position = context.reads.docs(NAME, min_position)
    report = funnel_health(view, period, by, context.benchmarks, now or system_clock())
    report["stages"] = [row for row in report["stages"] if shown(row["group"])]
    report["follow_up"] = [row for row in report["follow_up"] if shown(row["group"])]
    return {**report, "group": group, "position": position}


def _reach(guard: Guarded, rows: Rows, by: str | None, group: str | None) -> Any:
    principal = guard.principal
    if group is not None and by is None:
        raise ProblemError(
            422, "invalid-request", "Invalid request", "group", "a group needs `by` (team or rep)"
        )
    if principal.role in ("auditor", "admin"):
        return lambda name: group is None or name == group
    if principal.role == "rep" and by != "rep":
        raise guard.refuse(
            "by", f"a rep token reads its own funnel rows: by=rep (rows of {principal.rep_id})"
        )
    if principal.role == "manager" and by is None:
        raise guard.refuse(
            "by", f"a manager token reads its team's rows: by=team or by=rep ({principal.team})"
        )
    if by == "team":
        if group is not None and group != principal.team:
            raise guard.refuse("group", f"team {group!r} is outside this token's rows ({rows.scope()})")
        return lambda name: name == principal.team
    if group is not None:
        rows.rep(group, "group")
        return lambda name: name == group
    return rows.reps()
