from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.calendar_windows import kind_of, next_window, window_end
from domain.errors import DomainError
from domain.ids import aggregate_id


class ServiceAlerts(Aggregate):
    """Service-improvement triggers for one customer group (a region, by default): at most one per
    rule and last window of the run that fired it."""

    @staticmethod
    def create_id(grouping: str, group: str) -> UUID:
        return aggregate_id("service-alerts", f"{grouping}:{group}")

    @event("Opened")
    def __init__(self, grouping: str, group: str) -> None:
        self.grouping = grouping
        self.group = group
        self.triggered: frozenset[tuple[str, str]] = frozenset()

    def trigger_improvement(
        self, rule: str, windows: list[str], values: list[Decimal], threshold: Decimal, occurred_at: datetime
    ) -> None:
        _check_windows(windows)
        if len(values) != len(windows):
            raise DomainError("values", f"one value per window: {len(windows)} windows, {len(values)} values")
        for window, value in zip(windows, values, strict=True):
            if not value > threshold:
                raise DomainError("values", f"{value} in {window} does not exceed the threshold {threshold}")
        last = windows[-1]
        if occurred_at.date() < window_end(last):
            raise DomainError("occurred_at", f"window {last} has not ended at {occurred_at.isoformat()}")
        if (rule, last) in self.triggered:
            raise DomainError(
                "windows",
                f"rule {rule} already triggered service improvement for {self.grouping} {self.group} "
                f"in {last}",
            )
        self._triggered(rule, self.grouping, self.group, list(windows), list(values), threshold, occurred_at)

    @event("ServiceImprovementTriggered")
    def _triggered(
        self,
        rule: str,
        grouping: str,
        group: str,
        windows: list[str],
        values: list[Decimal],
        threshold: Decimal,
        occurred_at: datetime,
    ) -> None:
        self.triggered = self.triggered | {(rule, windows[-1])}


def _check_windows(windows: list[str]) -> None:
    if not windows:
        raise DomainError("windows", "at least one window is needed")
    try:
        kinds = {kind_of(window) for window in windows}
    except ValueError as error:
        raise DomainError("windows", str(error)) from None
    if len(kinds) > 1:
        raise DomainError("windows", "weeks and months cannot be mixed")
    for earlier, later in itertools.pairwise(windows):
        if next_window(earlier) != later:
            raise DomainError("windows", f"must be consecutive: {later} does not follow {earlier}")
