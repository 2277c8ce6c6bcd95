from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import aggregate_id


class Rep(Aggregate):
    @staticmethod
    def create_id(rep_id: str) -> UUID:
        return aggregate_id("rep", rep_id)

    @event("Onboarded")
    def __init__(
        self, rep_id: str, name: str, role: str, team: str, region: str, occurred_at: datetime
    ) -> None:
        self.rep_id = rep_id
        self.name = name
        self.role = role
        self.team = team
        self.region = region
        self.targets: dict[str, dict[str, Decimal]] = {}

    @event("TargetsSet")
    def set_targets(
        self,
        period: str,
        quota: Decimal,
        margin_target: Decimal,
        nps_target: Decimal,
        target_incentive: Decimal,
        occurred_at: datetime,
    ) -> None:
        # A later SetTargets for the same period replaces the earlier one.
        self.targets[period] = {
            "quota": quota,
            "margin_target": margin_target,
            "nps_target": nps_target,
            "target_incentive": target_incentive,
        }
