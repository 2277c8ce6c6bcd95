from __future__ import annotations

from datetime import timedelta

from commands.context import Context
from commands.models import (
    AttachDocument,
    CreditShare,
    LogActivity,
    LoseDeal,
    MoveStage,
    OpenDeal,
    ReassignDeal,
    RecordFirstTouchOverdue,
    SetCreditSplit,
    SubmitDemoReport,
)
from commands.unit_of_work import UnitOfWork
from domain.customer import Customer
from domain.deal import Deal
from domain.errors import DomainError
from domain.gate_book import GateBook
from domain.gates import DEFAULT_GATE_POLICY, GatePolicy
from domain.rep import Rep
from domain.splits import Split, check_splits


def open_deal(cmd: OpenDeal, uow: UnitOfWork, ctx: Context) -> None:
    uow.get(Customer, cmd.customer_id, field="customer_id", label="customer")
    owner = uow.get(Rep, cmd.owner_rep_id, field="owner_rep_id", label="rep")
    splits = _checked_splits(cmd.splits, uow) if cmd.splits is not None else None
    uow.ensure_absent(Deal, cmd.deal_id, field="deal_id", label="deal")
    due = cmd.occurred_at + timedelta(hours=ctx.first_touch_hours)
    uow.add(
        Deal(
            cmd.deal_id,
            cmd.customer_id,
            owner.rep_id,
            owner.role,
            cmd.expected_amount,
            splits,
            due,
            cmd.occurred_at,
        )
    )


def reassign_deal(cmd: ReassignDeal, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    owner = uow.get(Rep, cmd.owner_rep_id, field="owner_rep_id", label="rep")
    deal.reassign(owner.rep_id, owner.role, ctx.first_touch_hours, cmd.occurred_at)


def log_activity(cmd: LogActivity, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    uow.get(Rep, cmd.rep_id, field="rep_id", label="rep")
    if cmd.kind.is_visit and cmd.evidence is None and _gates(uow).visit_evidence_required:
        raise DomainError(
            "evidence",
            f"a {cmd.kind.value} needs photo evidence {{uri, sha256, taken_at}}: no fake check-ins",
        )
    evidence = cmd.evidence.model_dump() if cmd.evidence is not None else None
    deal.log_activity(cmd.rep_id, cmd.kind.value, cmd.note, cmd.transcript, evidence, cmd.occurred_at)


def attach_document(cmd: AttachDocument, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    deal.attach_document(cmd.kind.value, cmd.name, cmd.occurred_at)


def submit_demo_report(cmd: SubmitDemoReport, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    deal.submit_demo_report(cmd.audience_role, cmd.product_line, cmd.outcome, cmd.notes, cmd.occurred_at)


def move_stage(cmd: MoveStage, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    uow.get(Rep, cmd.rep_id, field="rep_id", label="rep")
    deal.move(cmd.rep_id, cmd.to_stage, _gates(uow), cmd.occurred_at)


def set_credit_split(cmd: SetCreditSplit, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    deal.set_credit_split(_checked_splits(cmd.splits, uow), cmd.occurred_at)


def lose_deal(cmd: LoseDeal, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    deal.lose(cmd.reason, cmd.occurred_at)


def record_first_touch_overdue(cmd: RecordFirstTouchOverdue, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    # Not due, touched, or already recorded is not an error: the watcher sweeps, and records once.
    deal.mark_first_touch_overdue(cmd.now or ctx.clock())


def _checked_splits(shares: list[CreditShare], uow: UnitOfWork) -> list[dict[str, object]]:
    check_splits([Split(share.rep_id, share.share) for share in shares])
    for index, share in enumerate(shares):
        uow.get(Rep, share.rep_id, field=f"splits.{index}.rep_id", label="rep")
    return [{"rep_id": share.rep_id, "share": share.share} for share in shares]


def _gates(uow: UnitOfWork) -> GatePolicy:
    book = uow.find(GateBook)
    return book.policy if book is not None else DEFAULT_GATE_POLICY
