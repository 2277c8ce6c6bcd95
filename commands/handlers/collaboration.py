from __future__ import annotations

from commands.context import Context
from commands.models import DecideRequirement, RecordSlaBreaches, SubmitContract, SubmitRequirement
from commands.unit_of_work import UnitOfWork
from domain.contract import Contract
from domain.deal import Deal
from domain.requirement import RequirementRequest


def submit_requirement(cmd: SubmitRequirement, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    uow.ensure_absent(RequirementRequest, cmd.request_id, field="request_id", label="requirement request")
    departments = [dept.value for dept in cmd.departments]
    deadlines = RequirementRequest.deadlines_for(departments, dict(ctx.sla_hours), cmd.occurred_at)
    uow.add(
        RequirementRequest(
            cmd.request_id, deal.deal_id, deal.customer_id, departments, deadlines, cmd.occurred_at
        )
    )


def decide_requirement(cmd: DecideRequirement, uow: UnitOfWork, ctx: Context) -> None:
    request = uow.get(RequirementRequest, cmd.request_id, field="request_id", label="requirement request")
    request.decide(cmd.department.value, cmd.decision.value, cmd.by, cmd.reason, cmd.occurred_at)


def record_sla_breaches(cmd: RecordSlaBreaches, uow: UnitOfWork, ctx: Context) -> None:
    request = uow.get(RequirementRequest, cmd.request_id, field="request_id", label="requirement request")
    # Nothing due is not an error: the watcher sweeps, and a second sweep finds nothing new.
    for department in request.breaches_due(cmd.now or ctx.clock()):
        request.record_breach(department)


def submit_contract(cmd: SubmitContract, uow: UnitOfWork, ctx: Context) -> None:
    deal = uow.get(Deal, cmd.deal_id, field="deal_id", label="deal")
    uow.ensure_absent(Contract, cmd.contract_id, field="contract_id", label="contract")
    contract = uow.add(
        Contract(
            cmd.contract_id,
            deal.deal_id,
            deal.customer_id,
            cmd.payment_term_days,
            cmd.penalty_ratio,
            cmd.occurred_at,
        )
    )
    contract.check_clauses(ctx.clause_rules, cmd.payment_term_days, cmd.penalty_ratio)
