"""Heat map data: what was invested in closed deals (activities, presales hours) against what they
returned (gross margin), by customer industry x customer region x product line.

A deal's product line is the one of its latest demo report ("none" without one). Its return is the
margin of its orders, less the ones since cancelled. Events record no durations, so presales hours
are standard hours: per activity logged by a presales rep, by kind, and per presales requirement
review; the standards are configuration (EffortHours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.periods import period_of
from projections.deal_journeys import Journey, Journeys
from replay.payroll import money

NO_PRODUCT = "none"
PRESALES = "presales"
DEFAULT_ACTIVITY_HOURS: Mapping[str, Decimal] = {
    "call": Decimal("0.5"),
    "visit": Decimal(2),
    "deep_visit": Decimal(4),
    "demo": Decimal(4),
    "competitor_analysis": Decimal(3),
    "exec_intro": Decimal(1),
}


@dataclass(frozen=True)
class EffortHours:
    activity: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_ACTIVITY_HOURS))
    presales_review: Decimal = Decimal(2)

    def with_overrides(self, overrides: Mapping[str, Decimal]) -> EffortHours:
        """`review` sets the hours of a presales requirement review; any other key an activity kind's."""
        for key, hours in overrides.items():
            if key != "review" and key not in self.activity:
                known = ", ".join([*self.activity, "review"])
                raise ValueError(f"hours: {key} is not an activity kind or review ({known})")
            if hours < 0:
                raise ValueError(f"hours: {key} must not be negative")
        activity = {kind: overrides.get(kind, hours) for kind, hours in self.activity.items()}
        return EffortHours(activity, overrides.get("review", self.presales_review))


def closing_period(journey: Journey) -> str | None:
    moment = journey.won_at or journey.lost_at
    return None if moment is None else period_of(moment)


def product_line(journey: Journey) -> str:
    return journey.demo_reports[-1].product_line if journey.demo_reports else NO_PRODUCT


@dataclass
class Cell:
    deals: int = 0
    won: int = 0
    activities: int = 0
    presales_hours: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)

    def document(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "won": self.won,
            "win_rate": _share(self.won, self.deals),
            "activities": self.activities,
            "presales_hours": _hours(self.presales_hours),
            "margin": money(self.margin),
            "margin_per_activity": _per(self.margin, Decimal(self.activities)),
            "margin_per_presales_hour": _per(self.margin, self.presales_hours),
        }


def heatmap(
    journeys: Journeys, periods: Collection[str] | None = None, hours: EffortHours = EffortHours()
) -> dict[str, Any]:
    """Per (industry, region, product line): closed deals (closed in `periods`, if given) and their
    investment and return."""
    cells: defaultdict[tuple[str, str, str], Cell] = defaultdict(Cell)
    total = Cell()
    for deal_id in sorted(journeys.deals):
        journey = journeys.deals[deal_id]
        closed = closing_period(journey)
        if closed is None or (periods is not None and closed not in periods):
            continue
        customer = journeys.customer(journey.customer_id)
        presales = sum(
            (
                hours.activity.get(activity.kind, Decimal(0))
                for activity in journey.activities
                if journeys.rep(activity.rep_id).role == PRESALES
            ),
            Decimal(0),
        )
        presales += hours.presales_review * journey.presales_reviews
        margin = journeys.margin(journey)
        for cell in (cells[(customer.industry, customer.region, product_line(journey))], total):
            cell.deals += 1
            cell.won += journey.outcome == "won"
            cell.activities += len(journey.activities)
            cell.presales_hours += presales
            cell.margin += margin
    return {
        "periods": None if periods is None else sorted(periods),
        "basis": "closed deals by the period they were won or lost; margin net of cancelled orders",
        "hours": {
            "activity_by_presales": {kind: _hours(h) for kind, h in hours.activity.items()},
            "presales_review": _hours(hours.presales_review),
        },
        "cells": [
            {"industry": industry, "region": region, "product_line": line, **cells[key].document()}
            for key in sorted(cells)
            for industry, region, line in (key,)
        ],
        "total": total.document(),
    }


def _share(part: int, whole: int) -> str | None:
    if whole == 0:
        return None
    return str((Decimal(part) / whole).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def _per(amount: Decimal, units: Decimal) -> str | None:
    return None if units == 0 else money(amount / units)


def _hours(hours: Decimal) -> str:
    return format(hours.normalize(), "f") if hours else "0"
