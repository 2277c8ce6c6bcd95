from __future__ import annotations

from commands.context import Context
from commands.models import ApplyRerun, ClosePeriod, PublishGatePolicy, PublishPlan
from commands.unit_of_work import UnitOfWork
from domain.errors import DomainError
from domain.gate_book import GateBook
from domain.ledger_periods import LedgerPeriods
from domain.plan_book import PlanBook, governing_plan


def publish_plan(cmd: PublishPlan, uow: UnitOfWork, ctx: Context) -> None:
    book = uow.singleton(PlanBook)
    book.publish(cmd.plan, cmd.occurred_at or ctx.clock())


def publish_gate_policy(cmd: PublishGatePolicy, uow: UnitOfWork, ctx: Context) -> None:
    book = uow.singleton(GateBook)
    book.publish(cmd.policy, cmd.occurred_at or ctx.clock())


def close_period(cmd: ClosePeriod, uow: UnitOfWork, ctx: Context) -> None:
    plans = uow.find(PlanBook)
    plan = governing_plan(plans.documents, cmd.period) if plans is not None else None
    if plan is None:
        raise DomainError("period", f"no published plan governs {cmd.period}: publish one before closing")
    uow.singleton(LedgerPeriods).close(cmd.period, plan, cmd.occurred_at)


def apply_rerun(cmd: ApplyRerun, uow: UnitOfWork, ctx: Context) -> None:
    plans = uow.find(PlanBook)
    if plans is None or cmd.plan not in plans.documents:
        raise DomainError("plan", f"no plan {cmd.plan} has been published")
    periods = uow.find(LedgerPeriods)
    if periods is None:
        raise DomainError("period", f"period {cmd.period} is not closed: a rerun applies to closed periods")
    periods.apply_rerun(cmd.period, cmd.plan, cmd.approved_by, cmd.occurred_at or ctx.clock())
