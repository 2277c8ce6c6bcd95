from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import aggregate_id


class RequirementRequest(Aggregate):
    """A deal's request for parallel approvals, each department against its own deadline."""

    @staticmethod
    def create_id(request_id: str) -> UUID:
        return aggregate_id("requirement", request_id)

    @event("Submitted")
    def __init__(
        self,
        request_id: str,
        deal_id: str,
        customer_id: str,
        departments: list[str],
        deadlines: dict[str, datetime],
        occurred_at: datetime,
    ) -> None:
        self.request_id = request_id
        self.deal_id = deal_id
        self.submitted_at = occurred_at
        self.deadlines = dict(deadlines)
        self.decisions: dict[str, str] = {}
        self.breached: frozenset[str] = frozenset()

    @staticmethod
    def deadlines_for(
        departments: list[str], sla_hours: dict[str, float], at: datetime
    ) -> dict[str, datetime]:
        return {dept: at + timedelta(hours=sla_hours[dept]) for dept in departments}

    def decide(
        self, department: str, decision: str, by: str, reason: str | None, occurred_at: datetime
    ) -> None:
        if department not in self.deadlines:
            raise DomainError(
                "department",
                f"request {self.request_id} did not ask {department} (asked: {', '.join(self.deadlines)})",
            )
        if department in self.decisions:
            raise DomainError("department", f"{department} already decided on request {self.request_id}")
        if occurred_at < self.submitted_at:
            raise DomainError("occurred_at", f"precedes the submission of request {self.request_id}")
        response_seconds = int((occurred_at - self.submitted_at).total_seconds())
        late = occurred_at > self.deadlines[department]
        self._decided(department, decision, by, reason, response_seconds, late, occurred_at)

    def breaches_due(self, now: datetime) -> list[str]:
        return [
            dept
            for dept, deadline in self.deadlines.items()
            if dept not in self.decisions and dept not in self.breached and now >= deadline
        ]

    def record_breach(self, department: str) -> None:
        self._sla_breached(department, self.deadlines[department])

    @event("Decided")
    def _decided(
        self,
        department: str,
        decision: str,
        by: str,
        reason: str | None,
        response_seconds: int,
        late: bool,
        occurred_at: datetime,
    ) -> None:
        self.decisions[department] = decision

    @event("SlaBreached")
    def _sla_breached(self, department: str, deadline: datetime) -> None:
        self.breached = self.breached | {department}
