from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, GateBlocked
from domain.gates import DealFacts, GatePolicy, describe
from domain.ids import aggregate_id
from domain.splits import Split, owner_split
from domain.stages import Stage


class Deal(Aggregate):
    @staticmethod
    def create_id(deal_id: str) -> UUID:
        return aggregate_id("deal", deal_id)

    @event("Opened")
    def __init__(
        self,
        deal_id: str,
        customer_id: str,
        owner_rep_id: str,
        owner_role: str,
        expected_amount: Decimal,
        splits: list[dict[str, Any]] | None,
        first_touch_due_at: datetime,
        occurred_at: datetime,
    ) -> None:
        self.deal_id = deal_id
        self.customer_id = customer_id
        self.owner_rep_id = owner_rep_id
        self.owner_role = owner_role
        self.expected_amount = expected_amount
        self.splits: tuple[Split, ...] | None = _splits(splits)
        self.stage = Stage.LEAD
        self.opened_at = occurred_at
        self.stage_since = occurred_at
        self.first_touch_due_at: datetime | None = first_touch_due_at
        self.documents: frozenset[str] = frozenset()
        self.demo_reports = 0
        self.activities: dict[str, int] = {}
        self.order_ids: tuple[str, ...] = ()

    # Decisions: each checks everything before the first event is triggered,
    # so a refused command leaves the aggregate untouched.

    def reassign(
        self, owner_rep_id: str, owner_role: str, first_touch_hours: float, occurred_at: datetime
    ) -> None:
        self._require_open("deal_id")
        self._not_before_opening(occurred_at)
        if owner_rep_id == self.owner_rep_id:
            raise DomainError("owner_rep_id", f"deal {self.deal_id} is already owned by {owner_rep_id}")
        due = occurred_at + timedelta(hours=first_touch_hours)
        self._reassigned(owner_rep_id, owner_role, self.owner_rep_id, due, occurred_at)

    def log_activity(
        self,
        rep_id: str,
        kind: str,
        note: str | None,
        transcript: str | None,
        evidence: dict[str, Any] | None,
        occurred_at: datetime,
    ) -> None:
        self._not_before_opening(occurred_at)
        self._activity_logged(rep_id, kind, note, transcript, evidence, occurred_at)

    def attach_document(self, kind: str, name: str, occurred_at: datetime) -> None:
        self._not_before_opening(occurred_at)
        self._document_attached(kind, name, occurred_at)

    def submit_demo_report(
        self, audience_role: str, product_line: str, outcome: str, notes: str, occurred_at: datetime
    ) -> None:
        self._not_before_opening(occurred_at)
        self._demo_report_submitted(audience_role, product_line, outcome, notes, occurred_at)

    def move(self, rep_id: str, to_stage: Stage, gates: GatePolicy, occurred_at: datetime) -> None:
        if to_stage is Stage.WON:
            raise DomainError("to_stage", "a deal is won only by booking an order (BookOrder)")
        if to_stage is Stage.LOST:
            raise DomainError("to_stage", "a deal is lost only by LoseDeal")
        self._require_open("deal_id")
        if to_stage is self.stage:
            raise DomainError("to_stage", f"deal {self.deal_id} is already in {to_stage.value}")
        self._not_before_last_move(occurred_at)
        if to_stage.rank > self.stage.rank:
            missing = gates.missing(self.facts, self.stage, to_stage, self.owner_role)
            if missing:
                self._stage_move_blocked(rep_id, self.stage, to_stage, missing, gates.version, occurred_at)
                raise GateBlocked(
                    "to_stage",
                    f"deal {self.deal_id} cannot enter {to_stage.value} (gate policy "
                    f"v{gates.version}): missing {describe(missing)}",
                    missing,
                )
        self._stage_moved(rep_id, self.stage, to_stage, occurred_at)

    def set_credit_split(self, splits: list[dict[str, Any]], occurred_at: datetime) -> None:
        self._require_open("deal_id")
        self._not_before_opening(occurred_at)
        self._credit_split_set(splits, occurred_at)

    def lose(self, reason: str, occurred_at: datetime) -> None:
        self._require_open("deal_id")
        self._not_before_last_move(occurred_at)
        self._lost(reason, self.stage, occurred_at)

    def win(self, order_id: str, occurred_at: datetime) -> None:
        """An order is a fact from the ERP: it passes no gate, only needs a deal that is not lost."""
        if self.stage is Stage.LOST:
            raise DomainError("deal_id", f"deal {self.deal_id} is lost: no order can be booked on it")
        self._won(order_id, self.stage, occurred_at)

    def mark_first_touch_overdue(self, now: datetime) -> bool:
        if self.first_touch_due_at is None or now < self.first_touch_due_at:
            return False
        self._first_touch_overdue(self.owner_rep_id, self.first_touch_due_at)
        return True

    @property
    def facts(self) -> DealFacts:
        return DealFacts(self.documents, self.demo_reports, dict(self.activities))

    def credit_at_booking(self) -> tuple[Split, ...]:
        return self.splits or owner_split(self.owner_rep_id)

    def _require_open(self, field: str) -> None:
        if not self.stage.is_open:
            raise DomainError(field, f"deal {self.deal_id} is {self.stage.value}: it takes no more changes")

    def _not_before_opening(self, occurred_at: datetime) -> None:
        if occurred_at < self.opened_at:
            raise DomainError(
                "occurred_at",
                f"precedes the opening of deal {self.deal_id} ({self.opened_at.isoformat()})",
            )

    def _not_before_last_move(self, occurred_at: datetime) -> None:
        if occurred_at < self.stage_since:
            raise DomainError(
                "occurred_at",
                f"precedes deal {self.deal_id}'s entry into {self.stage.value} "
                f"({self.stage_since.isoformat()})",
            )

    # Events: past-tense facts; their bodies only fold state.

    @event("Reassigned")
    def _reassigned(
        self,
        owner_rep_id: str,
        owner_role: str,
        previous_owner_rep_id: str,
        first_touch_due_at: datetime,
        occurred_at: datetime,
    ) -> None:
        self.owner_rep_id = owner_rep_id
        self.owner_role = owner_role
        self.first_touch_due_at = first_touch_due_at

    @event("ActivityLogged")
    def _activity_logged(
        self,
        rep_id: str,
        kind: str,
        note: str | None,
        transcript: str | None,
        evidence: dict[str, Any] | None,
        occurred_at: datetime,
    ) -> None:
        self.activities[kind] = self.activities.get(kind, 0) + 1
        if rep_id == self.owner_rep_id:
            self.first_touch_due_at = None

    @event("DocumentAttached")
    def _document_attached(self, kind: str, name: str, occurred_at: datetime) -> None:
        self.documents = self.documents | {kind}

    @event("DemoReportSubmitted")
    def _demo_report_submitted(
        self, audience_role: str, product_line: str, outcome: str, notes: str, occurred_at: datetime
    ) -> None:
        self.demo_reports += 1

    @event("StageMoved")
    def _stage_moved(self, rep_id: str, from_stage: str, to_stage: str, occurred_at: datetime) -> None:
        self.stage = Stage(to_stage)
        self.stage_since = occurred_at

    @event("StageMoveBlocked")
    def _stage_move_blocked(
        self,
        rep_id: str,
        from_stage: str,
        to_stage: str,
        missing: list[dict[str, object]],
        policy_version: int,
        occurred_at: datetime,
    ) -> None:
        pass

    @event("CreditSplitSet")
    def _credit_split_set(self, splits: list[dict[str, Any]], occurred_at: datetime) -> None:
        self.splits = _splits(splits)

    @event("Lost")
    def _lost(self, reason: str, from_stage: str, occurred_at: datetime) -> None:
        self.stage = Stage.LOST
        self.stage_since = occurred_at
        self.first_touch_due_at = None

    @event("Won")
    def _won(self, order_id: str, from_stage: str, occurred_at: datetime) -> None:
        if self.stage is not Stage.WON:
            self.stage = Stage.WON
            self.stage_since = occurred_at
        self.order_ids = (*self.order_ids, order_id)
        self.first_touch_due_at = None

    @event("FirstTouchOverdue")
    def _first_touch_overdue(self, owner_rep_id: str, due_at: datetime) -> None:
        self.first_touch_due_at = None


def _splits(splits: list[dict[str, Any]] | None) -> tuple[Split, ...] | None:
    if splits is None:
        return None
    return tuple(Split(str(part["rep_id"]), Decimal(part["share"])) for part in splits)
