"""What-if pay sweeps and win-factor attribution: analytics over the history, computed in a sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import PLAN_PATTERN, READ_PROBLEMS, MinPosition
from adapters.http_problems import ProblemError
from adapters.tokens import Role
from domain.plan import Plan
from domain.stages import FUNNEL, Stage
from replay.attribution_rules import Rules
from replay.deal_features import feature_table
from replay.sweep_grid import SweepError, grid, parse_axis
from replay.whatif import Base, Sweep, parse_periods, run_sweep

router = APIRouter(tags=["analytics"])
Context = Annotated[Api, Depends(api)]
# Every rep's pay under a candidate plan: what finance weighs before publishing one.
WHATIF_READERS: tuple[Role, ...] = ("finance", "auditor", "admin")
ATTRIBUTION_READERS: tuple[Role, ...] = ("manager", "auditor", "admin")
# A server computes a sweep in its own request: bound the work one request may ask for.
MAX_PERIODS = 36
StageName = Literal["lead", "qualified", "needs_confirmed", "solution_demo", "quotation", "negotiation"]
assert list(StageName.__args__) == [stage.value for stage in FUNNEL]  # type: ignore[attr-defined]


class WhatIf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: Annotated[str, Field(pattern=f"{PLAN_PATTERN[:-1]}|^live$")] | Plan = Field(
        description="`live` (each period's own plan), a published NAME@VERSION, or a plan document."
    )
    periods: str = Field(description="FROM..TO (inclusive, YYYY-MM) or one period.", max_length=20)
    sweep: list[Annotated[str, Field(max_length=200)]] = Field(
        default=[], max_length=4, description="FIELD=FROM..TO:STEP, e.g. bonuses[0].rate=0.4%..1.2%:0.1%."
    )
    threshold: Decimal = Field(default=Decimal(5), ge=0, le=1000, allow_inf_nan=False)


def _refused(error: Exception) -> ProblemError:
    field, _, rule = str(error).partition(": ")
    return ProblemError(422, "refused", "Refused", field.split()[0] if rule else None, rule or str(error))


@router.post("/whatif", responses=READ_PROBLEMS)
def whatif(
    body: WhatIf, guard: Guarded, context: Context, min_position: MinPosition = None
) -> dict[str, Any]:
    """Pay for the periods under a plan, at every point of the sweep grid, against what the live
    ledger pays; computed in a sandbox that writes nothing."""
    guard.roles(WHATIF_READERS, "what-if pay")
    try:
        periods = parse_periods(body.periods)
        if len(periods) > MAX_PERIODS:
            raise SweepError(f"periods: {len(periods)} periods; at most {MAX_PERIODS} per request")
        axes = [parse_axis(text) for text in body.sweep]
        grid(axes)
        with context.reads.ledger(min_position) as (ledger, position):
            base: Base = body.plan if isinstance(body.plan, Plan) else _published(ledger, body.plan)
            sweep = Sweep(base, periods, axes, body.threshold)
            document = run_sweep(ledger, sweep, workers=1)
    except SweepError as error:
        raise _refused(error) from error
    return {**document, "position": position}


def _published(ledger: Any, plan: str) -> Base:
    if plan == "live":
        return "live"
    found: Plan = ledger.facts.plan(plan)
    return found


@router.get("/attribution", responses=READ_PROBLEMS)
def attribution(
    guard: Guarded,
    context: Context,
    at_stage: Annotated[StageName, Query(description="Closed deals as they first reached this stage.")] = (
        Stage.QUOTATION.value
    ),
    features: Annotated[str | None, Query(max_length=500, description="Comma-separated subset.")] = None,
    alpha: Annotated[float, Query(gt=0, lt=1)] = Rules.alpha,
    min_deals: Annotated[int, Query(ge=1, le=1_000_000)] = Rules.min_deals,
    events_per_parameter: Annotated[float, Query(ge=1, le=1000)] = Rules.events_per_parameter,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Which factors drive wins, and by how much: odds ratios with 95 % intervals from a logistic
    regression over closed deals, Holm-adjusted; refused (`refused`, `reason`) when the data is thin."""
    guard.roles(ATTRIBUTION_READERS, "win-factor attribution")
    # The statistics stack takes seconds to import: only when attribution is first asked for.
    from replay.attribution import attribute  # noqa: PLC0415

    rules = Rules(alpha=alpha, min_deals=min_deals, events_per_parameter=events_per_parameter)
    only = None if features is None else [name.strip() for name in features.split(",") if name.strip()]
    with context.reads.journeys(min_position) as (journeys, position):
        table = feature_table(journeys, Stage(at_stage))
    try:
        document = attribute(table, rules, only)
    except ValueError as error:
        raise _refused(error) from error
    return {**document, "position": position}
