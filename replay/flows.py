"""Flow data for a Sankey diagram: deals from a source (the owner's team, by default) to the furthest
stage they reached, to their outcome (won, lost, still open), to the margin they returned.

The event vocabulary has no lead source, so the source is an attribute of the deal at opening: the
owner's team or role, or the customer's region or industry. Every link carries the number of deals
and their margin (net of cancelled orders), so the diagram can be drawn by either.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Any, Literal

from domain.periods import period_of
from domain.stages import FUNNEL
from projections.deal_journeys import Journey, Journeys
from replay.payroll import money

Source = Literal["team", "role", "region", "industry"]
SOURCES: tuple[Source, ...] = ("team", "role", "region", "industry")
OUTCOMES = ("won", "lost", "open")
NO_MARGIN = "no margin"
DEFAULT_BANDS = (Decimal(50_000), Decimal(200_000))


def source_of(journeys: Journeys, journey: Journey, by: Source) -> str:
    if by in ("team", "role"):
        rep = journeys.rep(journey.owners[0][1])
        return rep.team if by == "team" else rep.role
    customer = journeys.customer(journey.customer_id)
    return customer.region if by == "region" else customer.industry


def band_labels(bands: Sequence[Decimal]) -> list[str]:
    edges = [_amount(edge) for edge in bands]
    labels = [f"< {edges[0]}"] if edges else []
    labels += [f"{low} to {high}" for low, high in itertools.pairwise(edges)]
    return [*labels, f">= {edges[-1]}"] if edges else ["any margin"]


def margin_band(margin: Decimal, bands: Sequence[Decimal]) -> str:
    if margin <= 0:
        return NO_MARGIN
    labels = band_labels(bands)
    for index, edge in enumerate(bands):
        if margin < edge:
            return labels[index]
    return labels[-1]


def flows(
    journeys: Journeys,
    by: Source = "team",
    periods: Collection[str] | None = None,
    bands: Sequence[Decimal] = DEFAULT_BANDS,
) -> dict[str, Any]:
    """Nodes by level and links between consecutive levels, for deals opened in `periods` (all if None)."""
    if by not in SOURCES:
        raise ValueError(f"by: must be one of {', '.join(SOURCES)}")
    if any(low >= high for low, high in itertools.pairwise(bands)) or any(b <= 0 for b in bands):
        raise ValueError("bands: margin band edges must be positive and increasing")
    links: defaultdict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    deals = 0
    for deal_id in sorted(journeys.deals):
        journey = journeys.deals[deal_id]
        if periods is not None and period_of(journey.opened_at) not in periods:
            continue
        deals += 1
        margin = journeys.margin(journey)
        path = [
            f"{by}:{source_of(journeys, journey, by)}",
            f"stage:{journey.furthest.value}",
            f"outcome:{journey.outcome}",
            f"margin:{margin_band(margin, bands)}",
        ]
        for source, target in itertools.pairwise(path):
            links[(source, target)][0] += 1
            links[(source, target)][1] += margin
    used = {node for pair in links for node in pair}
    order = _node_order(bands)
    nodes = sorted(used, key=order)
    return {
        "by": by,
        "periods": None if periods is None else sorted(periods),
        "deals": deals,
        "levels": [by, "furthest_stage", "outcome", "margin"],
        "nodes": [
            {"id": node, "level": node.split(":", 1)[0], "label": node.split(":", 1)[1]} for node in nodes
        ],
        "links": [
            {"source": source, "target": target, "deals": count, "margin": money(margin)}
            for (source, target), (count, margin) in sorted(
                links.items(), key=lambda item: (order(item[0][0]), order(item[0][1]))
            )
        ],
    }


def _node(node: str) -> dict[str, str]:
    level, label = node.split(":", 1)
    return {"id": node, "level": level, "label": label}


def _node_order(bands: Sequence[Decimal]) -> Callable[[str], tuple[int, int, str]]:
    stages = [stage.value for stage in FUNNEL]
    margins = [NO_MARGIN, *band_labels(bands)]

    def key(node: str) -> tuple[int, int, str]:
        level, label = node.split(":", 1)
        if level == "stage":
            return (1, stages.index(label), label)
        if level == "outcome":
            return (2, OUTCOMES.index(label), label)
        if level == "margin":
            return (3, margins.index(label), label)
        return (0, 0, label)

    return key


def _amount(value: Decimal) -> str:
    return f"{value:,.0f}"
