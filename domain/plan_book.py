from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.plan import Plan


class PlanBook(Aggregate):
    """Every commission plan ever published; one book, so versions are checked against each other."""

    @staticmethod
    def create_id() -> UUID:
        return aggregate_id("singleton", "plans")

    @event("Opened")
    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}

    def publish(self, plan: Plan, occurred_at: datetime) -> None:
        if plan.key in self.documents:
            raise DomainError("plan.version", f"plan {plan.key} is already published; publish a new version")
        latest = max((int(doc["version"]) for doc in self._versions(plan.name)), default=0)
        if plan.version < latest:
            raise DomainError(
                "plan.version",
                f"plan {plan.name} is at version {latest}; a new version must be higher",
            )
        self._published(plan.key, plan.document(), occurred_at)

    def plan(self, key: str) -> Plan:
        try:
            return Plan.model_validate(self.documents[key])
        except KeyError:
            raise DomainError("plan", f"no plan {key} has been published") from None

    def _versions(self, name: str) -> list[dict[str, Any]]:
        return [doc for doc in self.documents.values() if doc["name"] == name]

    @event("PlanPublished")
    def _published(self, key: str, plan: dict[str, Any], occurred_at: datetime) -> None:
        self.documents[key] = plan


def governing_plan(documents: dict[str, dict[str, Any]], period: str) -> str | None:
    """The plan with the latest effective_from <= period; ties go to the highest version."""
    candidates = [doc for doc in documents.values() if str(doc["effective_from"]) <= period]
    if not candidates:
        return None
    best = max(
        candidates,
        key=lambda doc: (str(doc["effective_from"]), int(doc["version"]), str(doc["name"])),
    )
    return f"{best['name']}@{best['version']}"
