from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.periods import next_period, period_end


class LedgerPeriods(Aggregate):
    """Which pay periods are closed, under which plan, and which reruns were applied to them."""

    @staticmethod
    def create_id() -> UUID:
        return aggregate_id("singleton", "ledger-periods")

    @event("Opened")
    def __init__(self) -> None:
        self.closed: dict[str, str] = {}
        self.last_closed: str | None = None

    @property
    def first_open(self) -> str | None:
        return None if self.last_closed is None else next_period(self.last_closed)

    def close(self, period: str, governing_plan: str, occurred_at: datetime) -> None:
        if period in self.closed:
            raise DomainError("period", f"period {period} is already closed")
        if self.last_closed is not None and period != next_period(self.last_closed):
            raise DomainError(
                "period",
                f"periods close in calendar order: the next to close is {next_period(self.last_closed)}",
            )
        if occurred_at.date() < period_end(period):
            raise DomainError(
                "occurred_at", f"period {period} has not ended yet at {occurred_at.isoformat()}"
            )
        self._closed(period, governing_plan, occurred_at)

    def apply_rerun(self, period: str, plan: str, approved_by: str, occurred_at: datetime) -> None:
        if period not in self.closed:
            raise DomainError("period", f"period {period} is not closed: a rerun applies to closed periods")
        self._rerun_applied(period, plan, approved_by, self.closed[period], occurred_at)

    @event("PeriodClosed")
    def _closed(self, period: str, plan: str, occurred_at: datetime) -> None:
        self.closed[period] = plan
        self.last_closed = period

    @event("RerunApplied")
    def _rerun_applied(
        self, period: str, plan: str, approved_by: str, previous_plan: str, occurred_at: datetime
    ) -> None:
        self.closed[period] = plan
