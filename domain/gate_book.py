from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.gates import DEFAULT_GATE_POLICY, GatePolicy
from domain.ids import aggregate_id


class GateBook(Aggregate):
    """The funnel gate policies, versioned like plans; the latest governs new moves."""

    @staticmethod
    def create_id() -> UUID:
        return aggregate_id("singleton", "gate-policies")

    @event("Opened")
    def __init__(self) -> None:
        self.current: dict[str, Any] | None = None

    @property
    def policy(self) -> GatePolicy:
        if self.current is None:
            return DEFAULT_GATE_POLICY
        return GatePolicy.model_validate(self.current)

    def publish(self, policy: GatePolicy, occurred_at: datetime) -> None:
        if policy.version <= self.policy.version:
            raise DomainError(
                "policy.version",
                f"gate policy is at version {self.policy.version}; a new one must be higher",
            )
        self._published(policy.model_dump(mode="json"), occurred_at)

    @event("PolicyPublished")
    def _published(self, policy: dict[str, Any], occurred_at: datetime) -> None:
        self.current = policy
