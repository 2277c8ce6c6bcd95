"""The threshold rule engine: each rule's metric per group and window from the service read model,
the runs above threshold, and the command that records each run not recorded yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.doc_view import DocView
from commands.models import TriggerServiceImprovement
from domain.alert_rules import Firing, ThresholdRule, firings
from projections.customer_service import Observation, alert_key, observations

SERVICE = "service"


@dataclass(frozen=True)
class RuleEvaluation:
    rule: ThresholdRule
    # Per group, the complete windows in order (up to the instant evaluated).
    observed: dict[str, list[Observation]]
    fired: list[Firing]


def evaluate(view: DocView, rule: ThresholdRule, now: datetime) -> RuleEvaluation:
    """Only windows that ended by `now` (its own wall-clock date) are measured."""
    observed: dict[str, list[Observation]] = {}
    for _, group_doc in view.part(SERVICE, "group", rule.grouping):
        group = group_doc["group"]
        days = [doc for _, doc in view.part(SERVICE, "day", f"{rule.grouping}:{group}")]
        observed[group] = observations(days, rule.window, now.date())
    series = {group: [(o.window, o.value(rule.metric)) for o in found] for group, found in observed.items()}
    return RuleEvaluation(rule, observed, firings(rule, series))


def is_recorded(view: DocView, firing: Firing) -> bool:
    key = alert_key(firing.rule, firing.grouping, firing.group, firing.windows[-1])
    return view.get(SERVICE, "alert", key) is not None


def command_for(firing: Firing, now: datetime) -> TriggerServiceImprovement:
    return TriggerServiceImprovement(
        type="TriggerServiceImprovement",
        rule=firing.rule,
        grouping=firing.grouping,
        group=firing.group,
        windows=list(firing.windows),
        values=list(firing.values),
        threshold=firing.threshold,
        occurred_at=now,
    )


def firing_document(firing: Firing) -> dict[str, Any]:
    return {
        "group": firing.group,
        "windows": list(firing.windows),
        "values": [str(value) for value in firing.values],
    }


def latest(evaluation: RuleEvaluation) -> dict[str, list[dict[str, Any]]]:
    """Per group, the last `consecutive` windows measured: why a rule did or did not fire."""
    rule = evaluation.rule
    shown: dict[str, list[dict[str, Any]]] = {}
    for group, found in sorted(evaluation.observed.items()):
        shown[group] = [
            {
                "window": o.window,
                "value": None if (value := o.value(rule.metric)) is None else str(value),
                "complaints": o.complaints,
                "customers": o.customers,
            }
            for o in found[-rule.consecutive :]
        ]
    return shown
