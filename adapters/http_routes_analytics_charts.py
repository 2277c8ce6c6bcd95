"""The heat map and the Sankey flows over every deal's journey: what the dashboard's charts draw."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import READ_PROBLEMS, MinPosition
from adapters.http_problems import ProblemError
from adapters.http_routes_analytics import ATTRIBUTION_READERS
from replay.flows import DEFAULT_BANDS, Source, flows
from replay.heatmap import heatmap
from replay.sweep_grid import SweepError
from replay.whatif import parse_periods

router = APIRouter(prefix="/analytics", tags=["analytics"])
Context = Annotated[Api, Depends(api)]
Periods = Annotated[
    str | None,
    Query(max_length=20, description="FROM..TO (inclusive, YYYY-MM) or one period; default: all."),
]


def _invalid(field: str, rule: str) -> ProblemError:
    return ProblemError(422, "invalid-request", "Invalid request", field, rule)


def _periods(text: str | None) -> list[str] | None:
    if text is None:
        return None
    try:
        return parse_periods(text)
    except SweepError as error:
        raise _invalid("periods", str(error).partition(": ")[2]) from error


def _bands(text: str) -> list[Decimal]:
    try:
        edges = [Decimal(part) for part in text.split(",") if part.strip()]
    except InvalidOperation:
        edges = [Decimal("NaN")]
    if not all(edge.is_finite() for edge in edges):
        raise _invalid("bands", f"{text!r}: expected margin edges like 50000,200000")
    return edges


@router.get("/heatmap", responses=READ_PROBLEMS)
def heat_map(
    guard: Guarded, context: Context, periods: Periods = None, min_position: MinPosition = None
) -> dict[str, Any]:
    """Investment (activities, presales hours) against return (margin) of deals closed in `periods`,
    per customer industry x region x product line."""
    guard.roles(ATTRIBUTION_READERS, "the heat map")
    chosen = _periods(periods)
    with context.reads.journeys(min_position) as (journeys, position):
        document = heatmap(journeys, chosen)
    return {**document, "position": position}


@router.get("/flows", responses=READ_PROBLEMS)
def deal_flows(
    guard: Guarded,
    context: Context,
    by: Annotated[
        Source,
        Query(description="The source level: the owner's team or role, the customer's region or industry."),
    ] = "team",
    periods: Periods = None,
    bands: Annotated[str, Query(max_length=200, description="Margin band edges, comma-separated.")] = (
        ",".join(str(edge) for edge in DEFAULT_BANDS)
    ),
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Sankey data: deals opened in `periods` from source to furthest stage to outcome to margin band,
    each link with its deals and margin."""
    guard.roles(ATTRIBUTION_READERS, "the deal flows")
    chosen, edges = _periods(periods), _bands(bands)
    with context.reads.journeys(min_position) as (journeys, position):
        try:
            document = flows(journeys, by, chosen, edges)
        except ValueError as error:
            field, _, rule = str(error).partition(": ")
            raise _invalid(field, rule) from error
    return {**document, "position": position}
