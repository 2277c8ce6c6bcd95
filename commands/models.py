"""The wire format: one pydantic model per command, a union discriminated on `type`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from domain.alert_rules import Grouping
from domain.gates import GatePolicy
from domain.plan import Plan
from domain.stages import Stage
from domain.vocabulary import ActivityKind, Decision, Department, DocumentKind

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s](.*[^\s])?$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=20)]
Share = Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
PlanRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+@[1-9][0-9]*$")]
Window = Annotated[str, StringConstraints(pattern=r"^\d{4}-(W\d{2}|0[1-9]|1[0-2])$")]
When = TypeVar("When", date, datetime)
YEARS = (1900, 2999)


def _plausible_year(moment: When) -> When:
    # Rules add hours and days to these (deadlines, SLAs, clawback windows) and convert zones: a
    # year near the calendar's ends would overflow there instead of being refused here.
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise ValueError(f"the year must be between {YEARS[0]} and {YEARS[1]}")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_plausible_year)]
Day = Annotated[date, AfterValidator(_plausible_year)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    command_id: Id | None = None


class OnboardRep(Command):
    type: Literal["OnboardRep"]
    rep_id: Id
    name: Text
    role: Id
    team: Id
    region: Id
    occurred_at: Moment


class SetTargets(Command):
    type: Literal["SetTargets"]
    rep_id: Id
    period: Period
    quota: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    margin_target: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    nps_target: Annotated[Decimal, Field(gt=0, le=10, allow_inf_nan=False)]
    target_incentive: Money
    # Targets are planning data without a business moment; the time of acceptance stands in.
    occurred_at: Moment | None = None


class RegisterCustomer(Command):
    type: Literal["RegisterCustomer"]
    customer_id: Id
    name: Text
    industry: Id
    region: Id
    occurred_at: Moment


class TagCustomer(Command):
    type: Literal["TagCustomer"]
    customer_id: Id
    tags: Annotated[list[Id], Field(min_length=1, max_length=100)]
    occurred_at: Moment


class RecordNps(Command):
    type: Literal["RecordNps"]
    customer_id: Id
    score: Annotated[int, Field(ge=0, le=10, strict=True)]
    occurred_at: Moment


class LogComplaint(Command):
    type: Literal["LogComplaint"]
    customer_id: Id
    note: Text
    occurred_at: Moment


class CreditShare(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rep_id: Id
    share: Share


class OpenDeal(Command):
    type: Literal["OpenDeal"]
    deal_id: Id
    customer_id: Id
    owner_rep_id: Id
    expected_amount: Money
    occurred_at: Moment
    splits: Annotated[list[CreditShare], Field(min_length=1)] | None = None


class AddContact(Command):
    type: Literal["AddContact"]
    customer_id: Id
    contact_id: Id
    name: Text
    title: Text
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{3,32}$")] | None = None
    occurred_at: Moment


class UpdateContact(Command):
    type: Literal["UpdateContact"]
    contact_id: Id
    title: Text | None = None
    left_company: bool | None = None
    occurred_at: Moment


class ReassignDeal(Command):
    type: Literal["ReassignDeal"]
    deal_id: Id
    owner_rep_id: Id
    occurred_at: Moment


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    uri: Id
    sha256: Sha256
    taken_at: Moment


class LogActivity(Command):
    type: Literal["LogActivity"]
    deal_id: Id
    rep_id: Id
    kind: ActivityKind
    occurred_at: Moment
    note: Text | None = None
    transcript: Annotated[str, StringConstraints(min_length=1, max_length=200_000)] | None = None
    evidence: Evidence | None = None


class AttachDocument(Command):
    type: Literal["AttachDocument"]
    deal_id: Id
    kind: DocumentKind
    name: Text
    occurred_at: Moment


class SubmitDemoReport(Command):
    type: Literal["SubmitDemoReport"]
    deal_id: Id
    audience_role: Text
    product_line: Text
    outcome: Text
    notes: Text
    occurred_at: Moment


class MoveStage(Command):
    type: Literal["MoveStage"]
    deal_id: Id
    rep_id: Id
    to_stage: Stage
    occurred_at: Moment


class SetCreditSplit(Command):
    type: Literal["SetCreditSplit"]
    deal_id: Id
    splits: Annotated[list[CreditShare], Field(min_length=1)]
    occurred_at: Moment


class RecordFirstTouchOverdue(Command):
    type: Literal["RecordFirstTouchOverdue"]
    deal_id: Id
    # The watcher's clock; without it, the service's. A deal past its first-touch deadline by then,
    # with no touch by its owner and nothing recorded yet, gets `FirstTouchOverdue`.
    now: Moment | None = None


class LoseDeal(Command):
    type: Literal["LoseDeal"]
    deal_id: Id
    reason: Text
    occurred_at: Moment


class BookOrder(Command):
    type: Literal["BookOrder"]
    order_id: Id
    deal_id: Id
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=20)]
    gross_margin: Money
    signed_on: Day
    occurred_at: Moment


class CancelOrder(Command):
    type: Literal["CancelOrder"]
    order_id: Id
    reason: Text
    occurred_at: Moment


class SubmitRequirement(Command):
    type: Literal["SubmitRequirement"]
    request_id: Id
    deal_id: Id
    departments: Annotated[list[Department], Field(min_length=1)]
    occurred_at: Moment

    @field_validator("departments")
    @classmethod
    def _distinct(cls, departments: list[Department]) -> list[Department]:
        if len(set(departments)) != len(departments):
            raise ValueError("each department may be asked once")
        return departments


class DecideRequirement(Command):
    type: Literal["DecideRequirement"]
    request_id: Id
    department: Department
    decision: Decision
    by: Id
    reason: Text | None = None
    occurred_at: Moment


class SubmitContract(Command):
    type: Literal["SubmitContract"]
    contract_id: Id
    deal_id: Id
    payment_term_days: Annotated[int, Field(ge=0, le=3650, strict=True)]
    penalty_ratio: Annotated[Decimal, Field(ge=0, le=10, allow_inf_nan=False)]
    occurred_at: Moment


class RecordSlaBreaches(Command):
    type: Literal["RecordSlaBreaches"]
    request_id: Id
    # The watcher's clock; without it, the service's. Every department past its deadline by then
    # without a decision or a breach already recorded gets one.
    now: Moment | None = None


class TriggerServiceImprovement(Command):
    type: Literal["TriggerServiceImprovement"]
    rule: Id
    grouping: Grouping
    group: Id
    windows: Annotated[list[Window], Field(min_length=1, max_length=52)]
    values: Annotated[list[Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]], Field(min_length=1)]
    threshold: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    occurred_at: Moment


class PublishPlan(Command):
    type: Literal["PublishPlan"]
    plan: Plan
    occurred_at: Moment | None = None


class PublishGatePolicy(Command):
    type: Literal["PublishGatePolicy"]
    policy: GatePolicy
    occurred_at: Moment | None = None


class ClosePeriod(Command):
    type: Literal["ClosePeriod"]
    period: Period
    occurred_at: Moment


class ApplyRerun(Command):
    type: Literal["ApplyRerun"]
    period: Period
    plan: PlanRef
    approved_by: Id
    # Optional: an approval recorded by an operator happens now; a retry with the same command_id
    # must read the same, so the clock is not part of the command.
    occurred_at: Moment | None = None


AnyCommand = Annotated[
    OnboardRep
    | SetTargets
    | RegisterCustomer
    | TagCustomer
    | RecordNps
    | LogComplaint
    | OpenDeal
    | AddContact
    | UpdateContact
    | ReassignDeal
    | LogActivity
    | AttachDocument
    | SubmitDemoReport
    | MoveStage
    | SetCreditSplit
    | LoseDeal
    | RecordFirstTouchOverdue
    | BookOrder
    | CancelOrder
    | SubmitRequirement
    | DecideRequirement
    | SubmitContract
    | RecordSlaBreaches
    | TriggerServiceImprovement
    | PublishPlan
    | PublishGatePolicy
    | ClosePeriod
    | ApplyRerun,
    Field(discriminator="type"),
]
