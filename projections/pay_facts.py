"""Everything pay depends on, folded from events: the input of the commission maths for any period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.ids import event_id
from domain.pay_history import Credit, MoveAttempts, NpsScore, OrderFact, PeriodHistory, Targets
from domain.periods import period_of
from domain.plan import Plan
from domain.plan_book import governing_plan
from projections.read_model import topic_of

# The events pay depends on (by topic); a projection of pay reads nothing else from the store.
PAY_TOPICS: tuple[str, ...] = (
    "domain.rep:Rep.Onboarded",
    "domain.rep:Rep.TargetsSet",
    "domain.customer:Customer.Registered",
    "domain.customer:Customer.Tagged",
    "domain.customer:Customer.NpsRecorded",
    "domain.deal:Deal.Opened",
    "domain.deal:Deal.Reassigned",
    "domain.deal:Deal.StageMoved",
    "domain.deal:Deal.StageMoveBlocked",
    "domain.order:Order.Booked",
    "domain.order:Order.Cancelled",
    "domain.plan_book:PlanBook.PlanPublished",
    "domain.ledger_periods:LedgerPeriods.PeriodClosed",
    "domain.ledger_periods:LedgerPeriods.RerunApplied",
)


Doc = dict[str, Any]
DocKey = tuple[str, str]


@dataclass
class OrderRecord:
    order_id: str
    deal_id: str
    customer_id: str
    signed_on: date
    amount: Decimal
    gross_margin: Decimal
    credit: tuple[Credit, ...]
    booked: str
    deal: Doc
    customer: Doc
    cancelled_on: date | None = None
    cancelled: str | None = None

    def fact(self, first_order: bool) -> OrderFact:
        sources = (self.booked,) if self.cancelled is None else (self.booked, self.cancelled)
        return OrderFact(
            order_id=self.order_id,
            deal_id=self.deal_id,
            customer_id=self.customer_id,
            signed_on=self.signed_on,
            amount=self.amount,
            gross_margin=self.gross_margin,
            credit=self.credit,
            first_order=first_order,
            cancelled_on=self.cancelled_on,
            sources=sources,
            deal=self.deal,
            customer=self.customer,
        )

    def doc(self) -> Doc:
        return {
            "order_id": self.order_id,
            "deal_id": self.deal_id,
            "customer_id": self.customer_id,
            "signed_on": self.signed_on.isoformat(),
            "amount": str(self.amount),
            "gross_margin": str(self.gross_margin),
            "credit": [[c.rep_id, str(c.share)] for c in self.credit],
            "booked": self.booked,
            "deal": self.deal,
            "customer": self.customer,
            "cancelled_on": None if self.cancelled_on is None else self.cancelled_on.isoformat(),
            "cancelled": self.cancelled,
        }

    @classmethod
    def from_doc(cls, doc: Doc) -> OrderRecord:
        return cls(
            order_id=doc["order_id"],
            deal_id=doc["deal_id"],
            customer_id=doc["customer_id"],
            signed_on=date.fromisoformat(doc["signed_on"]),
            amount=Decimal(doc["amount"]),
            gross_margin=Decimal(doc["gross_margin"]),
            credit=tuple(Credit(rep, Decimal(share)) for rep, share in doc["credit"]),
            booked=doc["booked"],
            deal=doc["deal"],
            customer=doc["customer"],
            cancelled_on=None if doc["cancelled_on"] is None else date.fromisoformat(doc["cancelled_on"]),
            cancelled=doc["cancelled"],
        )


@dataclass
class PayFacts:
    """Folds pay-relevant events; `history(period)` hands the commission maths what it needs.

    State is kept as documents keyed by (kind, key) so a persistent projection can save
    only what a batch of events changed (`take_changes`) and load it all back (`load`).
    """

    reps: dict[str, Doc] = field(default_factory=dict)
    customers: dict[str, Doc] = field(default_factory=dict)
    deals: dict[str, Doc] = field(default_factory=dict)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    targets: dict[tuple[str, str], Targets] = field(default_factory=dict)
    nps: dict[str, Doc] = field(default_factory=dict)
    moves: dict[tuple[str, str], tuple[list[str], list[str]]] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    plan_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    plan_sources: dict[str, str] = field(default_factory=dict)
    changed: set[DocKey] = field(default_factory=set)
    # Indexes derived from the documents above, rebuilt on load.
    _ids: dict[UUID, str] = field(default_factory=dict)
    _orders_by_period: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _customer_orders: defaultdict[str, set[tuple[date, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _customer_deals: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _nps_by_period: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _order_uuids: dict[str, str] = field(default_factory=dict)
    # Bumped whenever what history(period) returns may change, so entitlement can be cached.
    _versions: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    _epoch: int = 0

    def version(self, period: str) -> tuple[int, int]:
        return (self._epoch, self._versions[period])

    def apply(self, event: Any) -> None:
        handler = _HANDLERS.get(topic_of(event))
        if handler is not None:
            handler(self, event, event_id(event.originator_id, event.originator_version))

    # -- folding -------------------------------------------------------------------------

    def _rep_onboarded(self, e: Any, eid: str) -> None:
        rep = {"rep_id": e.rep_id, "name": e.name, "role": e.role, "team": e.team, "region": e.region}
        self._ids[e.originator_id] = e.rep_id
        self.reps[e.rep_id] = {"uuid": str(e.originator_id), "context": rep}
        self.changed.add(("rep", e.rep_id))
        self._epoch += 1

    def _targets_set(self, e: Any, eid: str) -> None:
        rep_id = self._ids[e.originator_id]
        self.targets[(rep_id, e.period)] = Targets(
            quota=Decimal(e.quota),
            margin_target=Decimal(e.margin_target),
            nps_target=Decimal(e.nps_target),
            target_incentive=Decimal(e.target_incentive),
            source=eid,
        )
        self.changed.add(("targets", f"{rep_id}|{e.period}"))
        self._versions[e.period] += 1

    def _customer_registered(self, e: Any, eid: str) -> None:
        self._ids[e.originator_id] = e.customer_id
        context = {
            "customer_id": e.customer_id,
            "name": e.name,
            "industry": e.industry,
            "region": e.region,
            "tags": [],
        }
        self.customers[e.customer_id] = {"uuid": str(e.originator_id), "context": context}
        self.changed.add(("customer", e.customer_id))

    def _customer_tagged(self, e: Any, eid: str) -> None:
        customer_id = self._ids[e.originator_id]
        context = self.customers[customer_id]["context"]
        context["tags"] = [*context["tags"], *e.tags]
        self.changed.add(("customer", customer_id))

    def _nps_recorded(self, e: Any, eid: str) -> None:
        customer_id = self._ids[e.originator_id]
        # Credited to whoever owned one of the customer's deals when the score came in.
        owners = sorted({self.deals[deal]["owner_rep_id"] for deal in self._customer_deals[customer_id]})
        period = period_of(e.occurred_at)
        self.nps[eid] = {"period": period, "customer_id": customer_id, "score": e.score, "reps": owners}
        self._nps_by_period[period].append(eid)
        self.changed.add(("nps", eid))
        self._versions[period] += 1

    def _deal_opened(self, e: Any, eid: str) -> None:
        self._ids[e.originator_id] = e.deal_id
        self.deals[e.deal_id] = {
            "uuid": str(e.originator_id),
            "deal_id": e.deal_id,
            "customer_id": e.customer_id,
            "owner_rep_id": e.owner_rep_id,
            "expected_amount": float(e.expected_amount),
            "stage": "lead",
        }
        self._customer_deals[e.customer_id].add(e.deal_id)
        self.changed.add(("deal", e.deal_id))

    def _deal_reassigned(self, e: Any, eid: str) -> None:
        deal_id = self._ids[e.originator_id]
        self.deals[deal_id]["owner_rep_id"] = e.owner_rep_id
        self.changed.add(("deal", deal_id))

    def _stage_moved(self, e: Any, eid: str) -> None:
        deal_id = self._ids[e.originator_id]
        self.deals[deal_id]["stage"] = str(e.to_stage)
        self.changed.add(("deal", deal_id))
        self._attempt(e.rep_id, period_of(e.occurred_at), eid, allowed=True)

    def _stage_move_blocked(self, e: Any, eid: str) -> None:
        self._attempt(e.rep_id, period_of(e.occurred_at), eid, allowed=False)

    def _attempt(self, rep_id: str, period: str, eid: str, *, allowed: bool) -> None:
        allowed_ids, blocked_ids = self.moves.setdefault((rep_id, period), ([], []))
        (allowed_ids if allowed else blocked_ids).append(eid)
        self.changed.add(("moves", f"{rep_id}|{period}"))
        self._versions[period] += 1

    def _order_booked(self, e: Any, eid: str) -> None:
        self._ids[e.originator_id] = e.order_id
        deal = self.deals.get(e.deal_id, {"deal_id": e.deal_id})
        customer = self.customers.get(e.customer_id, {"context": {"customer_id": e.customer_id}})
        record = OrderRecord(
            order_id=e.order_id,
            deal_id=e.deal_id,
            customer_id=e.customer_id,
            signed_on=e.signed_on,
            amount=Decimal(e.amount),
            gross_margin=Decimal(e.gross_margin),
            credit=tuple(Credit(str(c["rep_id"]), Decimal(c["share"])) for c in e.credit),
            booked=eid,
            deal={k: v for k, v in deal.items() if k != "uuid"},
            customer=dict(customer["context"]),
        )
        self._index_order(record, str(e.originator_id))
        self.changed.add(("order", e.order_id))
        # A new order can turn the customer's later orders from first into repeat orders.
        signed = period_of(record.signed_on)
        for period in self._orders_by_period:
            if period >= signed:
                self._versions[period] += 1

    def _order_cancelled(self, e: Any, eid: str) -> None:
        order_id = self._ids[e.originator_id]
        record = self.orders[order_id]
        record.cancelled_on = e.occurred_at.date()
        record.cancelled = eid
        self.changed.add(("order", order_id))
        self._versions[period_of(record.signed_on)] += 1

    def _plan_published(self, e: Any, eid: str) -> None:
        self._add_plan(e.key, e.plan, eid)
        self.changed.add(("plan", e.key))

    def _add_plan(self, key: str, document: dict[str, Any], source: str) -> None:
        self.plans[key] = Plan.model_validate(document)
        self.plan_documents[key] = document
        self.plan_sources[key] = source
        self._epoch += 1

    def _index_order(self, record: OrderRecord, uuid: str) -> None:
        self.orders[record.order_id] = record
        self._order_uuids[record.order_id] = uuid
        self._orders_by_period[period_of(record.signed_on)].add(record.order_id)
        self._customer_orders[record.customer_id].add((record.signed_on, record.order_id))

    # -- reading -------------------------------------------------------------------------

    def governing_plan(self, period: str) -> str | None:
        return governing_plan(self.plan_documents, period)

    def plan(self, key: str) -> Plan:
        try:
            return self.plans[key]
        except KeyError:
            raise DomainError("plan", f"no plan {key} has been published") from None

    def periods(self) -> list[str]:
        """Every period with an order, targets, an NPS score or a stage move."""
        found = set(self._orders_by_period) | {period for _, period in self.targets}
        found |= set(self._nps_by_period) | {period for _, period in self.moves}
        return sorted(found)

    def history(self, period: str) -> PeriodHistory:
        orders = sorted(
            (self.orders[order_id] for order_id in self._orders_by_period.get(period, ())),
            key=lambda record: (record.signed_on, record.order_id),
        )
        nps: defaultdict[str, list[NpsScore]] = defaultdict(list)
        for eid in self._nps_by_period.get(period, ()):
            doc = self.nps[eid]
            for rep_id in doc["reps"]:
                nps[rep_id].append(NpsScore(int(doc["score"]), eid))
        return PeriodHistory(
            period=period,
            orders=tuple(record.fact(self._is_first(record)) for record in orders),
            targets={rep: t for (rep, p), t in self.targets.items() if p == period},
            nps={rep: tuple(scores) for rep, scores in nps.items()},
            moves={
                rep: MoveAttempts(tuple(allowed), tuple(blocked))
                for (rep, p), (allowed, blocked) in self.moves.items()
                if p == period
            },
            reps={rep_id: doc["context"] for rep_id, doc in self.reps.items()},
        )

    def _is_first(self, record: OrderRecord) -> bool:
        return min(self._customer_orders[record.customer_id]) == (record.signed_on, record.order_id)

    # -- persistence as documents --------------------------------------------------------

    def take_changes(self) -> list[tuple[str, str, Doc]]:
        docs = [(kind, key, self._doc(kind, key)) for kind, key in sorted(self.changed)]
        self.changed.clear()
        return docs

    def _doc(self, kind: str, key: str) -> Doc:
        if kind == "rep":
            return self.reps[key]
        if kind == "customer":
            return self.customers[key]
        if kind == "deal":
            return self.deals[key]
        if kind == "order":
            return {"uuid": self._order_uuids[key], **self.orders[key].doc()}
        if kind == "targets":
            rep_id, period = key.split("|")
            t = self.targets[(rep_id, period)]
            return {
                "quota": str(t.quota),
                "margin_target": str(t.margin_target),
                "nps_target": str(t.nps_target),
                "target_incentive": str(t.target_incentive),
                "source": t.source,
            }
        if kind == "nps":
            return self.nps[key]
        if kind == "moves":
            rep_id, period = key.split("|")
            allowed, blocked = self.moves[(rep_id, period)]
            return {"allowed": allowed, "blocked": blocked}
        if kind == "plan":
            return {"document": self.plan_documents[key], "source": self.plan_sources[key]}
        raise ValueError(f"kind: unknown pay fact kind {kind!r}")

    def load(self, kind: str, key: str, doc: Doc) -> None:
        self._epoch += 1
        if kind == "rep":
            self.reps[key] = doc
            self._ids[UUID(doc["uuid"])] = key
        elif kind == "customer":
            self.customers[key] = doc
            self._ids[UUID(doc["uuid"])] = key
        elif kind == "deal":
            self.deals[key] = doc
            self._ids[UUID(doc["uuid"])] = key
            self._customer_deals[doc["customer_id"]].add(key)
        elif kind == "order":
            self._ids[UUID(doc["uuid"])] = key
            self._index_order(OrderRecord.from_doc(doc), doc["uuid"])
        elif kind == "targets":
            rep_id, period = key.split("|")
            self.targets[(rep_id, period)] = Targets(
                quota=Decimal(doc["quota"]),
                margin_target=Decimal(doc["margin_target"]),
                nps_target=Decimal(doc["nps_target"]),
                target_incentive=Decimal(doc["target_incentive"]),
                source=doc["source"],
            )
        elif kind == "nps":
            self.nps[key] = doc
            self._nps_by_period[doc["period"]].append(key)
        elif kind == "moves":
            rep_id, period = key.split("|")
            self.moves[(rep_id, period)] = (list(doc["allowed"]), list(doc["blocked"]))
        elif kind == "plan":
            self._add_plan(key, doc["document"], doc["source"])
        else:
            raise ValueError(f"kind: unknown pay fact kind {kind!r}")


_HANDLERS: dict[str, Any] = {
    "domain.rep:Rep.Onboarded": PayFacts._rep_onboarded,
    "domain.rep:Rep.TargetsSet": PayFacts._targets_set,
    "domain.customer:Customer.Registered": PayFacts._customer_registered,
    "domain.customer:Customer.Tagged": PayFacts._customer_tagged,
    "domain.customer:Customer.NpsRecorded": PayFacts._nps_recorded,
    "domain.deal:Deal.Opened": PayFacts._deal_opened,
    "domain.deal:Deal.Reassigned": PayFacts._deal_reassigned,
    "domain.deal:Deal.StageMoved": PayFacts._stage_moved,
    "domain.deal:Deal.StageMoveBlocked": PayFacts._stage_move_blocked,
    "domain.order:Order.Booked": PayFacts._order_booked,
    "domain.order:Order.Cancelled": PayFacts._order_cancelled,
    "domain.plan_book:PlanBook.PlanPublished": PayFacts._plan_published,
}
