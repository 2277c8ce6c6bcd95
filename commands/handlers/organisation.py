from __future__ import annotations

from commands.context import Context
from commands.models import (
    AddContact,
    LogComplaint,
    OnboardRep,
    RecordNps,
    RegisterCustomer,
    SetTargets,
    TagCustomer,
    UpdateContact,
)
from commands.unit_of_work import UnitOfWork
from domain.customer import Contact, Customer
from domain.rep import Rep


def onboard_rep(cmd: OnboardRep, uow: UnitOfWork, ctx: Context) -> None:
    uow.ensure_absent(Rep, cmd.rep_id, field="rep_id", label="rep")
    uow.add(Rep(cmd.rep_id, cmd.name, cmd.role, cmd.team, cmd.region, cmd.occurred_at))


def set_targets(cmd: SetTargets, uow: UnitOfWork, ctx: Context) -> None:
    rep = uow.get(Rep, cmd.rep_id, field="rep_id", label="rep")
    occurred_at = cmd.occurred_at or ctx.clock()
    rep.set_targets(
        cmd.period, cmd.quota, cmd.margin_target, cmd.nps_target, cmd.target_incentive, occurred_at
    )


def register_customer(cmd: RegisterCustomer, uow: UnitOfWork, ctx: Context) -> None:
    uow.ensure_absent(Customer, cmd.customer_id, field="customer_id", label="customer")
    uow.add(Customer(cmd.customer_id, cmd.name, cmd.industry, cmd.region, cmd.occurred_at))


def tag_customer(cmd: TagCustomer, uow: UnitOfWork, ctx: Context) -> None:
    customer = uow.get(Customer, cmd.customer_id, field="customer_id", label="customer")
    customer.tag(list(cmd.tags), cmd.occurred_at)


def record_nps(cmd: RecordNps, uow: UnitOfWork, ctx: Context) -> None:
    customer = uow.get(Customer, cmd.customer_id, field="customer_id", label="customer")
    customer.record_nps(cmd.score, cmd.occurred_at)


def log_complaint(cmd: LogComplaint, uow: UnitOfWork, ctx: Context) -> None:
    customer = uow.get(Customer, cmd.customer_id, field="customer_id", label="customer")
    customer.log_complaint(cmd.note, cmd.occurred_at)


def add_contact(cmd: AddContact, uow: UnitOfWork, ctx: Context) -> None:
    uow.get(Customer, cmd.customer_id, field="customer_id", label="customer")
    uow.ensure_absent(Contact, cmd.contact_id, field="contact_id", label="contact")
    uow.add(Contact(cmd.contact_id, cmd.customer_id, cmd.name, cmd.title, cmd.phone, cmd.occurred_at))


def update_contact(cmd: UpdateContact, uow: UnitOfWork, ctx: Context) -> None:
    contact = uow.get(Contact, cmd.contact_id, field="contact_id", label="contact")
    contact.update(cmd.title, cmd.left_company, cmd.occurred_at)
