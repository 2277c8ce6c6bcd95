"""Each deal's journey folded from events, by business time: its stays in each stage, the work logged on
it, the moves the gates refused, its splits, owners, outcome and orders; with the reps and customers
it involves. The input of win-factor attribution, the heat map, the flows and the team diagnosis.

Every fact about a deal keeps the deal's event sequence number (its aggregate version), so a question
can be asked "as of" any point of the deal's own history, e.g. when it first reached quotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.stages import Stage, stages_entered
from projections.read_model import topic_of

TOPICS: tuple[str, ...] = (
    "domain.rep:Rep.Onboarded",
    "domain.customer:Customer.Registered",
    "domain.deal:Deal.Opened",
    "domain.deal:Deal.Reassigned",
    "domain.deal:Deal.ActivityLogged",
    "domain.deal:Deal.DemoReportSubmitted",
    "domain.deal:Deal.StageMoved",
    "domain.deal:Deal.StageMoveBlocked",
    "domain.deal:Deal.CreditSplitSet",
    "domain.deal:Deal.Lost",
    "domain.deal:Deal.Won",
    "domain.order:Order.Booked",
    "domain.order:Order.Cancelled",
    "domain.requirement:RequirementRequest.Submitted",
    "domain.requirement:RequirementRequest.Decided",
)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class RepFacts:
    role: str
    team: str
    region: str


@dataclass(frozen=True)
class CustomerFacts:
    industry: str
    region: str


@dataclass
class Stay:
    """A deal's time in one stage; its owner when it entered and when it ended."""

    stage: Stage
    entered_at: datetime
    entered_seq: int
    entered_owner: str
    left_at: datetime | None = None
    left_seq: int | None = None
    left_owner: str | None = None
    # advanced (incl. won), regressed or lost; None while the deal is still in the stage.
    exit: str | None = None

    @property
    def days(self) -> float | None:
        if self.left_at is None:
            return None
        return (self.left_at - self.entered_at).total_seconds() / 86400


@dataclass(frozen=True)
class Activity:
    kind: str
    rep_id: str
    occurred_at: datetime
    seq: int


@dataclass(frozen=True)
class Blocked:
    to_stage: str
    rep_id: str
    occurred_at: datetime
    seq: int


@dataclass(frozen=True)
class DemoReport:
    outcome: str
    product_line: str
    occurred_at: datetime
    seq: int


@dataclass
class Assignment:
    """The deal handed to a rep (opening or reassignment) and the rep's first activity after it."""

    rep_id: str
    at: datetime
    due: datetime
    seq: int
    touched_at: datetime | None = None


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    deal_id: str
    amount: Decimal
    gross_margin: Decimal
    signed_on: date
    cancelled_at: datetime | None = None


@dataclass
class Journey:
    deal_id: str
    customer_id: str
    opened_at: datetime
    expected_amount: Decimal
    owners: list[tuple[int, str]]
    stays: list[Stay]
    assignments: list[Assignment]
    # First time each stage was entered or passed by a forward move: (seq, business time).
    reached: dict[Stage, tuple[int, datetime]]
    activities: list[Activity] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    demo_reports: list[DemoReport] = field(default_factory=list)
    # (seq, number of reps sharing the credit) at opening and at every SetCreditSplit.
    splits: list[tuple[int, int]] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    presales_reviews: int = 0
    won_at: datetime | None = None
    lost_at: datetime | None = None
    lost_reason: str | None = None

    @property
    def owner(self) -> str:
        return self.owners[-1][1]

    def owner_at(self, seq: int) -> str:
        """Who owned the deal just before its event `seq`."""
        owner = self.owners[0][1]
        for since, rep_id in self.owners:
            if since >= seq:
                break
            owner = rep_id
        return owner

    @property
    def outcome(self) -> str:
        if self.won_at is not None:
            return "won"
        return "lost" if self.lost_at is not None else "open"

    @property
    def furthest(self) -> Stage:
        """The furthest open stage entered or passed."""
        return max(self.reached, key=lambda stage: stage.rank)


@dataclass
class Journeys:
    reps: dict[str, RepFacts] = field(default_factory=dict)
    customers: dict[str, CustomerFacts] = field(default_factory=dict)
    deals: dict[str, Journey] = field(default_factory=dict)
    orders: dict[str, OrderFacts] = field(default_factory=dict)
    _ids: dict[UUID, str] = field(default_factory=dict)
    _request_deals: dict[UUID, str] = field(default_factory=dict)

    def apply(self, event: Any) -> None:
        handler = _HANDLERS.get(topic_of(event))
        if handler is not None:
            handler(self, event)

    def rep(self, rep_id: str) -> RepFacts:
        return self.reps.get(rep_id, RepFacts(UNKNOWN, UNKNOWN, UNKNOWN))

    def customer(self, customer_id: str) -> CustomerFacts:
        return self.customers.get(customer_id, CustomerFacts(UNKNOWN, UNKNOWN))

    def margin(self, journey: Journey) -> Decimal:
        """Gross margin the deal brought in: its booked orders, less the ones since cancelled."""
        return sum(
            (
                self.orders[order_id].gross_margin
                for order_id in journey.order_ids
                if order_id in self.orders and self.orders[order_id].cancelled_at is None
            ),
            Decimal(0),
        )

    # -- folding -------------------------------------------------------------------------

    def _rep_onboarded(self, e: Any) -> None:
        self.reps[e.rep_id] = RepFacts(e.role, e.team, e.region)

    def _customer_registered(self, e: Any) -> None:
        self.customers[e.customer_id] = CustomerFacts(e.industry, e.region)

    def _deal_opened(self, e: Any) -> None:
        seq, at = e.originator_version, e.occurred_at
        self._ids[e.originator_id] = e.deal_id
        journey = Journey(
            deal_id=e.deal_id,
            customer_id=e.customer_id,
            opened_at=at,
            expected_amount=Decimal(e.expected_amount),
            owners=[(seq, e.owner_rep_id)],
            stays=[Stay(Stage.LEAD, at, seq, e.owner_rep_id)],
            assignments=[Assignment(e.owner_rep_id, at, e.first_touch_due_at, seq)],
            reached={Stage.LEAD: (seq, at)},
        )
        if e.splits:
            journey.splits.append((seq, len(e.splits)))
        self.deals[e.deal_id] = journey

    def _deal(self, e: Any) -> Journey:
        return self.deals[self._ids[e.originator_id]]

    def _reassigned(self, e: Any) -> None:
        journey = self._deal(e)
        seq = e.originator_version
        journey.owners.append((seq, e.owner_rep_id))
        journey.assignments.append(Assignment(e.owner_rep_id, e.occurred_at, e.first_touch_due_at, seq))

    def _activity_logged(self, e: Any) -> None:
        journey = self._deal(e)
        journey.activities.append(Activity(e.kind, e.rep_id, e.occurred_at, e.originator_version))
        latest = journey.assignments[-1]
        if latest.touched_at is None and e.rep_id == latest.rep_id:
            latest.touched_at = e.occurred_at

    def _demo_reported(self, e: Any) -> None:
        self._deal(e).demo_reports.append(
            DemoReport(e.outcome, e.product_line, e.occurred_at, e.originator_version)
        )

    def _stage_moved(self, e: Any) -> None:
        journey = self._deal(e)
        seq, at = e.originator_version, e.occurred_at
        origin, target = Stage(e.from_stage), Stage(e.to_stage)
        forward = target.rank > origin.rank
        self._leave(journey, seq, at, "advanced" if forward else "regressed")
        journey.stays.append(Stay(target, at, seq, journey.owner))
        if forward:
            for stage in stages_entered(origin, target):
                journey.reached.setdefault(stage, (seq, at))

    def _stage_move_blocked(self, e: Any) -> None:
        self._deal(e).blocked.append(Blocked(str(e.to_stage), e.rep_id, e.occurred_at, e.originator_version))

    def _split_set(self, e: Any) -> None:
        self._deal(e).splits.append((e.originator_version, len(e.splits)))

    def _lost(self, e: Any) -> None:
        journey = self._deal(e)
        self._leave(journey, e.originator_version, e.occurred_at, "lost")
        journey.lost_at, journey.lost_reason = e.occurred_at, e.reason

    def _won(self, e: Any) -> None:
        journey = self._deal(e)
        journey.order_ids.append(e.order_id)
        if journey.won_at is None:
            self._leave(journey, e.originator_version, e.occurred_at, "advanced")
            journey.won_at = e.occurred_at

    @staticmethod
    def _leave(journey: Journey, seq: int, at: datetime, exit_: str) -> None:
        stay = journey.stays[-1]
        if stay.exit is None:
            stay.left_at, stay.left_seq, stay.left_owner, stay.exit = at, seq, journey.owner, exit_

    def _order_booked(self, e: Any) -> None:
        self._ids[e.originator_id] = e.order_id
        self.orders[e.order_id] = OrderFacts(
            e.order_id, e.deal_id, Decimal(e.amount), Decimal(e.gross_margin), e.signed_on
        )

    def _order_cancelled(self, e: Any) -> None:
        order_id = self._ids[e.originator_id]
        order = self.orders[order_id]
        self.orders[order_id] = OrderFacts(
            order.order_id, order.deal_id, order.amount, order.gross_margin, order.signed_on, e.occurred_at
        )

    def _requirement_submitted(self, e: Any) -> None:
        self._request_deals[e.originator_id] = e.deal_id

    def _requirement_decided(self, e: Any) -> None:
        deal_id = self._request_deals.get(e.originator_id)
        if e.department == "presales" and deal_id in self.deals:
            self.deals[deal_id].presales_reviews += 1


_HANDLERS: dict[str, Any] = {
    "domain.rep:Rep.Onboarded": Journeys._rep_onboarded,
    "domain.customer:Customer.Registered": Journeys._customer_registered,
    "domain.deal:Deal.Opened": Journeys._deal_opened,
    "domain.deal:Deal.Reassigned": Journeys._reassigned,
    "domain.deal:Deal.ActivityLogged": Journeys._activity_logged,
    "domain.deal:Deal.DemoReportSubmitted": Journeys._demo_reported,
    "domain.deal:Deal.StageMoved": Journeys._stage_moved,
    "domain.deal:Deal.StageMoveBlocked": Journeys._stage_move_blocked,
    "domain.deal:Deal.CreditSplitSet": Journeys._split_set,
    "domain.deal:Deal.Lost": Journeys._lost,
    "domain.deal:Deal.Won": Journeys._won,
    "domain.order:Order.Booked": Journeys._order_booked,
    "domain.order:Order.Cancelled": Journeys._order_cancelled,
    "domain.requirement:RequirementRequest.Submitted": Journeys._requirement_submitted,
    "domain.requirement:RequirementRequest.Decided": Journeys._requirement_decided,
}
