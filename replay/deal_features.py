"""Per closed deal, what it had when it first reached a reference stage (default: quotation), and
whether it was then won or lost: the table win-factor attribution models.

Features are taken at that point, not over the deal's whole life: a won deal passes every stage, so
its lifetime activity counts and stage times would "predict" winning by construction. Comparing deals
at the same point of the funnel asks what only the history so far can answer: of the deals that got
this far, which ones went on to win. Closed deals that never reached the stage are left out (counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.stages import FUNNEL, Stage
from projections.deal_journeys import Journey, Journeys

Kind = Literal["count", "flag", "weeks", "category"]
ACTIVITY_COUNTS = {
    "call": "calls",
    "visit": "visits",
    "deep_visit": "deep_visits",
    "demo": "demos",
    "competitor_analysis": "competitor_analyses",
}
NO_DEMO = "none"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Kind
    # How a unit of it reads in a sentence: "each call", "an exec introduction", "each week in lead".
    label: str


def features_at(stage: Stage) -> list[Feature]:
    """Every feature a deal can have by the time it reaches `stage`."""
    features = [
        Feature("calls", "count", "each call"),
        Feature("visits", "count", "each visit"),
        Feature("deep_visits", "count", "each deep visit"),
        Feature("demos", "count", "each demo"),
        Feature("competitor_analyses", "count", "each competitor analysis"),
        Feature("exec_intro", "flag", "an exec introduction"),
        Feature("blocked_moves", "count", "each stage move refused by a gate"),
        Feature("split_credit", "flag", "split credit"),
    ]
    features += [
        Feature(f"weeks_in_{earlier.value}", "weeks", f"each week in {earlier.value}")
        for earlier in FUNNEL[: stage.rank]
    ]
    features += [
        Feature("demo_outcome", "category", "demo outcome"),
        Feature("industry", "category", "industry"),
        Feature("region", "category", "region"),
        Feature("team", "category", "owner's team"),
        Feature("role", "category", "owner's role"),
    ]
    return features


@dataclass(frozen=True)
class DealRow:
    deal_id: str
    won: bool
    values: dict[str, float | str]


@dataclass(frozen=True)
class FeatureTable:
    stage: Stage
    features: list[Feature]
    rows: list[DealRow]
    # Closed deals that never reached the stage, so have no row.
    not_reached: int


def feature_table(journeys: Journeys, stage: Stage = Stage.QUOTATION) -> FeatureTable:
    rows = []
    not_reached = 0
    for deal_id in sorted(journeys.deals):
        journey = journeys.deals[deal_id]
        if journey.outcome == "open":
            continue
        if stage not in journey.reached:
            not_reached += 1
            continue
        rows.append(DealRow(deal_id, journey.outcome == "won", _values(journeys, journey, stage)))
    return FeatureTable(stage, features_at(stage), rows, not_reached)


def _values(journeys: Journeys, journey: Journey, stage: Stage) -> dict[str, float | str]:
    snapshot, _ = journey.reached[stage]
    values: dict[str, float | str] = dict.fromkeys(ACTIVITY_COUNTS.values(), 0.0)
    exec_intro = False
    for activity in journey.activities:
        if activity.seq >= snapshot:
            break
        if activity.kind in ACTIVITY_COUNTS:
            name = ACTIVITY_COUNTS[activity.kind]
            values[name] = float(values[name]) + 1
        exec_intro = exec_intro or activity.kind == "exec_intro"
    values["exec_intro"] = float(exec_intro)
    values["blocked_moves"] = float(sum(1 for blocked in journey.blocked if blocked.seq < snapshot))
    sharing = [count for seq, count in journey.splits if seq < snapshot]
    values["split_credit"] = float(bool(sharing) and sharing[-1] >= 2)
    for earlier in FUNNEL[: stage.rank]:
        days = sum(
            (stay.days or 0.0)
            for stay in journey.stays
            if stay.stage is earlier and stay.left_seq is not None and stay.left_seq <= snapshot
        )
        values[f"weeks_in_{earlier.value}"] = days / 7
    reports = [report for report in journey.demo_reports if report.seq < snapshot]
    values["demo_outcome"] = reports[-1].outcome if reports else NO_DEMO
    customer = journeys.customer(journey.customer_id)
    owner = journeys.rep(journey.owner_at(snapshot))
    values["industry"], values["region"] = customer.industry, customer.region
    values["team"], values["role"] = owner.team, owner.role
    return values
