from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import aggregate_id


@dataclass(frozen=True)
class ClauseRules:
    max_payment_term_days: int = 90
    max_penalty_ratio: Decimal = Decimal("0.2")

    def risks(self, payment_term_days: int, penalty_ratio: Decimal) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if payment_term_days > self.max_payment_term_days:
            found.append(
                (
                    "payment_term",
                    f"payment term {payment_term_days} days > {self.max_payment_term_days}",
                )
            )
        if penalty_ratio > self.max_penalty_ratio:
            found.append(("penalty_ratio", f"penalty ratio {penalty_ratio} > {self.max_penalty_ratio}"))
        return found


class Contract(Aggregate):
    @staticmethod
    def create_id(contract_id: str) -> UUID:
        return aggregate_id("contract", contract_id)

    @event("Submitted")
    def __init__(
        self,
        contract_id: str,
        deal_id: str,
        customer_id: str,
        payment_term_days: int,
        penalty_ratio: Decimal,
        occurred_at: datetime,
    ) -> None:
        self.contract_id = contract_id
        self.deal_id = deal_id
        self.risks: tuple[str, ...] = ()

    def check_clauses(self, rules: ClauseRules, payment_term_days: int, penalty_ratio: Decimal) -> None:
        for rule, detail in rules.risks(payment_term_days, penalty_ratio):
            self._risk_flagged(rule, detail)

    @event("RiskFlagged")
    def _risk_flagged(self, rule: str, detail: str) -> None:
        self.risks = (*self.risks, rule)
