"""Threshold rules over read-model metrics: a group's metric above a threshold for N consecutive
calendar windows fires the rule's event, once per group and last window of the run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.calendar_windows import WindowKind, next_window

# What the service read model can measure per group and window:
# complaint_rate = complaints logged in the window ÷ customers of the group registered by its end;
# complaints = complaints logged in the window.
Metric = Literal["complaint_rate", "complaints"]
Grouping = Literal["region", "industry"]
# The events a rule may record: facts the domain knows how to decide, not free-form names.
AlertEvent = Literal["ServiceImprovementTriggered"]


class ThresholdRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
    metric: Metric
    grouping: Grouping
    threshold: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    consecutive: Annotated[int, Field(ge=1, le=52)]
    window: WindowKind
    event: AlertEvent


def _distinct_ids(rules: list[ThresholdRule]) -> list[ThresholdRule]:
    ids = [rule.id for rule in rules]
    repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if repeated:
        raise ValueError(f"rule ids must be distinct; repeated: {', '.join(repeated)}")
    return rules


AlertRules = Annotated[list[ThresholdRule], AfterValidator(_distinct_ids)]

COMPLAINT_RATE_BY_REGION = ThresholdRule(
    id="complaint-rate-by-region",
    metric="complaint_rate",
    grouping="region",
    threshold=Decimal("0.018"),
    consecutive=2,
    window="week",
    event="ServiceImprovementTriggered",
)


def default_rules() -> list[ThresholdRule]:
    return [COMPLAINT_RATE_BY_REGION]


@dataclass(frozen=True)
class Firing:
    rule: str
    grouping: Grouping
    group: str
    windows: tuple[str, ...]
    values: tuple[Decimal, ...]
    threshold: Decimal


Series = Sequence[tuple[str, Decimal | None]]


def firings(rule: ThresholdRule, series: Mapping[str, Series]) -> list[Firing]:
    """Every run of `consecutive` windows above the threshold, per group, in window order.

    A window missing from a group's series, or without a value, breaks the run.
    """
    found: list[Firing] = []
    for group in sorted(series):
        run: list[tuple[str, Decimal]] = []
        for window, value in series[group]:
            if run and next_window(run[-1][0]) != window:
                run = []
            if value is None or not value > rule.threshold:
                run = []
                continue
            run.append((window, value))
            if len(run) >= rule.consecutive:
                last = run[-rule.consecutive :]
                found.append(
                    Firing(
                        rule.id,
                        rule.grouping,
                        group,
                        tuple(w for w, _ in last),
                        tuple(v for _, v in last),
                        rule.threshold,
                    )
                )
    return found
