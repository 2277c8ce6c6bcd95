from __future__ import annotations

from commands.context import Context
from commands.models import BookOrder, CancelOrder
from commands.unit_of_work import UnitOfWork
from domain.deal import Deal
from domain.errors import DomainError
from domain.order import Order


def book_order(cmd: BookOrder, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    if cmd.gross_margin > cmd.amount:
        raise DomainError("gross_margin", f"must not exceed the amount ({cmd.amount})")
    uow.ensure_absent(Order, cmd.order_id, field="order_id", label="order")
    credit = [{"rep_id": split.rep_id, "share": split.share} for split in deal.credit_at_booking()]
    deal.win(cmd.order_id, cmd.occurred_at)
    uow.add(
        Order(
            cmd.order_id,
            cmd.deal_id,
            deal.customer_id,
            deal.owner_rep_id,
            cmd.amount,
            cmd.gross_margin,
            cmd.signed_on,
            credit,
            cmd.occurred_at,
        )
    )


def cancel_order(cmd: CancelOrder, uow: UnitOfWork, ctx: Context) -> None:
    order = uow.get(Order, cmd.order_id, field="order_id", label="order")
    order.cancel(cmd.reason, cmd.occurred_at)
