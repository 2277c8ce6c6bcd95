from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import aggregate_id


class Order(Aggregate):
    @staticmethod
    def create_id(order_id: str) -> UUID:
        return aggregate_id("order", order_id)

    @event("Booked")
    def __init__(
        self,
        order_id: str,
        deal_id: str,
        customer_id: str,
        owner_rep_id: str,
        amount: Decimal,
        gross_margin: Decimal,
        signed_on: date,
        credit: list[dict[str, Any]],
        occurred_at: datetime,
    ) -> None:
        # The credit split is frozen at booking time: a later SetCreditSplit on
        # the deal does not move pay already earned on this order.
        self.order_id = order_id
        self.deal_id = deal_id
        self.customer_id = customer_id
        self.amount = amount
        self.gross_margin = gross_margin
        self.signed_on = signed_on
        self.cancelled_at: datetime | None = None

    def cancel(self, reason: str, occurred_at: datetime) -> None:
        if self.cancelled_at is not None:
            raise DomainError("order_id", f"order {self.order_id} was already cancelled")
        self._cancelled(reason, occurred_at)

    @event("Cancelled")
    def _cancelled(self, reason: str, occurred_at: datetime) -> None:
        self.cancelled_at = occurred_at
