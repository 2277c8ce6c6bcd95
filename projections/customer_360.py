"""Customer 360: one document per customer (profile, tags, contacts with their title history and
departure, deals, NPS, complaints, order and activity summaries) and, under the customer's partition,
its orders by signing date and the notes that are evidence for a tag — so the detail view is one read
of the customer and, only when it has orders, one indexed read of them.

An order is a customer's first when no other booked order of the customer, cancelled or not, has an
earlier (signed_on, order_id) — the commission rule — so an earlier order recorded late turns the
previous first order into a repeat one, and its document is rewritten.

Activity notes and transcripts are read by two rule sets: action tags (what happened in the
conversation, counted in the customer's activity summary and per rep and period in `rep_tags` for
quality reports) and keyword tags (evidence for customer tag suggestions). Only an activity whose text
fired a keyword rule gets a document of its own (kind `note`): tag suggestions are all that read them,
and they read only the evidence; four activities in five fire none (simulated history), and a document
for each of them was a third of every document a rebuild wrote. A demo report's notes are meeting notes
too: read like an activity of kind `demo_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.customer import Contact, Customer
from domain.deal import Deal
from domain.ids import event_id
from domain.order import Order
from domain.periods import period_of
from domain.text_tags import TextTagger, normal_text
from projections.read_model import Changes, DocChange, Document, StaleReadModel, instant_key, topic_of

CUSTOMER_360 = "customer360"
TOPICS: tuple[str, ...] = (
    "domain.customer:Customer.Registered",
    "domain.customer:Customer.Tagged",
    "domain.customer:Customer.NpsRecorded",
    "domain.customer:Customer.ComplaintLogged",
    "domain.customer:Contact.Added",
    "domain.customer:Contact.Updated",
    "domain.deal:Deal.Opened",
    "domain.deal:Deal.Reassigned",
    "domain.deal:Deal.StageMoved",
    "domain.deal:Deal.Won",
    "domain.deal:Deal.Lost",
    "domain.deal:Deal.ActivityLogged",
    "domain.deal:Deal.DemoReportSubmitted",
    "domain.order:Order.Booked",
    "domain.order:Order.Cancelled",
)
CENT = Decimal("0.01")
# The form of the saved documents; documents saved in another form are folded again from the store.
# 2: action tags per rep and period (`rep_tags`) instead of a document per activity.
# 3: a `note` document for each activity that is evidence for a tag, instead of an `activity` document
# for every activity.
LAYOUT = "3"


def customer_part(customer_id: str) -> str:
    return f"customer:{customer_id}"


def rep_part(rep_id: str) -> str:
    return f"rep:{rep_id}"


def order_sort(signed_on: str, order_id: str) -> str:
    return f"{signed_on}:{order_id}"


def new_customer(customer_id: str, name: str, industry: str, region: str, registered_at: str) -> Document:
    return {
        "customer_id": customer_id,
        "name": name,
        "industry": industry,
        "region": region,
        "registered_at": registered_at,
        "tags": [],
        "contacts": [],
        "deals": [],
        "nps": {"scores": [], "count": 0, "mean": None, "net": None},
        "complaints": [],
        "orders": {
            "count": 0,
            "first": 0,
            "repeat": 0,
            "cancelled": 0,
            "first_order_id": None,
            "first_signed_on": None,
            "last_signed_on": None,
            "amount": "0",
            "gross_margin": "0",
        },
        "activities": {"count": 0, "last_at": None, "action_tags": {}},
    }


def counted(counts: dict[str, int], tags: Iterable[str]) -> dict[str, int]:
    """The counts with one more for each tag, in tag order (as the documents show them)."""
    for tag in tags:
        counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items()))


def nps_summary(scores: list[int]) -> tuple[str | None, str | None]:
    """Mean score (2 places) and net promoter score (% of 9-10 minus % of 0-6, 1 place)."""
    if not scores:
        return None, None
    count = Decimal(len(scores))
    mean = (Decimal(sum(scores)) / count).quantize(CENT, ROUND_HALF_UP)
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    net = (Decimal(100 * (promoters - detractors)) / count).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return str(mean), str(net)


class Customer360:
    name = CUSTOMER_360
    topics = TOPICS
    state_kinds: tuple[str, ...] = ("customer", "order", "rules", "rep_tags")

    def __init__(self, action_tags: TextTagger, keyword_tags: TextTagger) -> None:
        self.action_tags = action_tags
        self.keyword_tags = keyword_tags
        self.rules_now = {
            "action_tags": action_tags.digest,
            "tag_keywords": keyword_tags.digest,
            "layout": LAYOUT,
        }
        # The rules the saved documents were read with; None until the first event or load.
        self.rules_in_use: dict[str, str] | None = None
        self.customers: dict[str, Document] = {}
        self.orders: dict[str, Document] = {}
        # Business ids are derived from aggregate ids (domain.ids), so these indexes rebuild on load.
        self._uuids: dict[UUID, str] = {}
        self._deals: dict[str, tuple[str, Document]] = {}
        self._contacts: dict[str, tuple[str, Document]] = {}
        self._first: dict[str, tuple[str, str]] = {}
        self.changes = Changes()
        self._dirty: set[str] = set()
        self._profiles: set[str] = set()
        self._by_class: dict[type, Callable[[Any], None] | None] = {}
        # Each customer's latest activity instant, so an activity compares instants, not text.
        self._last_activity: dict[str, datetime] = {}
        # Action tags seen per rep and period, what the monthly quality report reads.
        self._rep_tags: dict[tuple[str, str], Document] = {}
        self._rep_tags_dirty: set[tuple[str, str]] = set()
        self._handlers: dict[str, Callable[[Any], None]] = {
            "domain.customer:Customer.Registered": self._registered,
            "domain.customer:Customer.Tagged": self._tagged,
            "domain.customer:Customer.NpsRecorded": self._nps,
            "domain.customer:Customer.ComplaintLogged": self._complaint,
            "domain.customer:Contact.Added": self._contact_added,
            "domain.customer:Contact.Updated": self._contact_updated,
            "domain.deal:Deal.Opened": self._deal_opened,
            "domain.deal:Deal.Reassigned": self._deal_reassigned,
            "domain.deal:Deal.StageMoved": self._stage_moved,
            "domain.deal:Deal.Won": self._won,
            "domain.deal:Deal.Lost": self._lost,
            "domain.deal:Deal.ActivityLogged": self._activity,
            "domain.deal:Deal.DemoReportSubmitted": self._demo_report,
            "domain.order:Order.Booked": self._order_booked,
            "domain.order:Order.Cancelled": self._order_cancelled,
        }

    # Every handler looks everything up before it changes anything: an event that fails is retried.

    def apply(self, event: Any, position: int) -> None:
        cls = type(event)
        if cls not in self._by_class:
            self._by_class[cls] = self._handlers.get(topic_of(event))
        handler = self._by_class[cls]
        if handler is None:
            return
        if self.rules_in_use is None:
            self.rules_in_use = dict(self.rules_now)
            self.changes.put("rules", "in_use", self.rules_in_use)
        handler(event)

    def _customer(self, originator: UUID) -> tuple[str, Document]:
        customer_id = self._uuids[originator]
        return customer_id, self.customers[customer_id]

    def _registered(self, e: Any) -> None:
        doc = new_customer(e.customer_id, e.name, e.industry, e.region, e.occurred_at.isoformat())
        self.customers[e.customer_id] = doc
        self._uuids[e.originator_id] = e.customer_id
        self._dirty.add(e.customer_id)
        self._profiles.add(e.customer_id)

    def _tagged(self, e: Any) -> None:
        customer_id, doc = self._customer(e.originator_id)
        doc["tags"] = [*doc["tags"], *(tag for tag in e.tags if tag not in doc["tags"])]
        self._dirty.add(customer_id)
        self._profiles.add(customer_id)

    def _nps(self, e: Any) -> None:
        eid = event_id(e.originator_id, e.originator_version)
        customer_id, doc = self._customer(e.originator_id)
        nps = doc["nps"]
        nps["scores"].append(
            {"score": int(e.score), "occurred_at": e.occurred_at.isoformat(), "event_id": eid}
        )
        nps["count"] = len(nps["scores"])
        nps["mean"], nps["net"] = nps_summary([s["score"] for s in nps["scores"]])
        self._dirty.add(customer_id)

    def _complaint(self, e: Any) -> None:
        eid = event_id(e.originator_id, e.originator_version)
        customer_id, doc = self._customer(e.originator_id)
        doc["complaints"].append({"note": e.note, "occurred_at": e.occurred_at.isoformat(), "event_id": eid})
        self._dirty.add(customer_id)

    def _contact_added(self, e: Any) -> None:
        doc = self.customers[e.customer_id]
        at = e.occurred_at.isoformat()
        contact = {
            "contact_id": e.contact_id,
            "name": e.name,
            "title": e.title,
            "phone": e.phone,
            "added_at": at,
            "titles": [{"title": e.title, "since": at}],
            "left_company": False,
            "left_at": None,
        }
        doc["contacts"].append(contact)
        self._contacts[e.contact_id] = (e.customer_id, contact)
        self._uuids[e.originator_id] = e.contact_id
        self._dirty.add(e.customer_id)

    def _contact_updated(self, e: Any) -> None:
        customer_id, contact = self._contacts[self._uuids[e.originator_id]]
        at = e.occurred_at.isoformat()
        if e.title is not None and e.title != contact["title"]:
            contact["title"] = e.title
            contact["titles"].append({"title": e.title, "since": at})
        if e.left_company is not None and e.left_company != contact["left_company"]:
            contact["left_company"] = bool(e.left_company)
            contact["left_at"] = at if e.left_company else None
        self._dirty.add(customer_id)

    def _deal_opened(self, e: Any) -> None:
        doc = self.customers[e.customer_id]
        deal = {
            "deal_id": e.deal_id,
            "owner_rep_id": e.owner_rep_id,
            "stage": "lead",
            "expected_amount": str(e.expected_amount),
            "opened_at": e.occurred_at.isoformat(),
            "won_at": None,
            "lost_at": None,
            "lost_reason": None,
            "order_ids": [],
        }
        doc["deals"].append(deal)
        self._deals[e.deal_id] = (e.customer_id, deal)
        self._uuids[e.originator_id] = e.deal_id
        self._dirty.add(e.customer_id)

    def _deal(self, originator: UUID) -> tuple[str, Document]:
        return self._deals[self._uuids[originator]]

    def _deal_reassigned(self, e: Any) -> None:
        customer_id, deal = self._deal(e.originator_id)
        deal["owner_rep_id"] = e.owner_rep_id
        self._dirty.add(customer_id)

    def _stage_moved(self, e: Any) -> None:
        customer_id, deal = self._deal(e.originator_id)
        deal["stage"] = str(e.to_stage)
        self._dirty.add(customer_id)

    def _won(self, e: Any) -> None:
        customer_id, deal = self._deal(e.originator_id)
        if deal["won_at"] is None:
            deal["won_at"] = e.occurred_at.isoformat()
        deal["stage"] = "won"
        deal["order_ids"].append(e.order_id)
        self._dirty.add(customer_id)

    def _lost(self, e: Any) -> None:
        customer_id, deal = self._deal(e.originator_id)
        deal["stage"] = "lost"
        deal["lost_at"] = e.occurred_at.isoformat()
        deal["lost_reason"] = e.reason
        self._dirty.add(customer_id)

    def _activity(self, e: Any) -> None:
        deal_id = self._uuids[e.originator_id]
        customer_id, _ = self._deals[deal_id]
        note, transcript = e.note, e.transcript
        # Note and transcript, a line apart when there are both.
        text = f"{note}\n{transcript}" if note and transcript else note or transcript or ""
        key = (e.rep_id, period_of(e.occurred_at))
        action = self._write_activity(e, customer_id, deal_id, e.rep_id, str(e.kind), note, text)
        seen = self._rep_tags.get(key)
        if seen is None:
            seen = self._rep_tags[key] = {"rep_id": key[0], "period": key[1], "activities": 0, "tags": {}}
        seen["activities"] += 1
        if action:
            seen["tags"] = counted(seen["tags"], action)
        self._rep_tags_dirty.add(key)

    def _demo_report(self, e: Any) -> None:
        # A demo report's notes are meeting notes about the customer: read like an activity's.
        deal_id = self._uuids[e.originator_id]
        customer_id, _ = self._deals[deal_id]
        self._write_activity(e, customer_id, deal_id, None, "demo_report", e.notes, e.notes)

    def _write_activity(
        self,
        e: Any,
        customer_id: str,
        deal_id: str,
        rep_id: str | None,
        kind: str,
        note: str | None,
        text: str,
    ) -> dict[str, list[str]]:
        normal = normal_text(text) if text else ""
        action = self.action_tags.tags_of_normal(normal)
        keywords = self.keyword_tags.tags_of_normal(normal)
        occurred_at: datetime = e.occurred_at
        at = occurred_at.isoformat()
        summary = self.customers[customer_id]["activities"]
        summary["count"] += 1
        last = self._last_activity.get(customer_id)
        if last is None and summary["last_at"] is not None:
            # A customer loaded back from its document.
            last = self._last_activity[customer_id] = datetime.fromisoformat(summary["last_at"])
        if last is None or last < occurred_at:
            self._last_activity[customer_id] = occurred_at
            summary["last_at"] = at
        if action:
            summary["action_tags"] = counted(summary["action_tags"], action)
        self._dirty.add(customer_id)
        if keywords:
            eid = event_id(e.originator_id, e.originator_version)
            sort = f"{instant_key(occurred_at)}:{eid}"
            self.changes.put(
                "note",
                eid,
                {
                    "event_id": eid,
                    "deal_id": deal_id,
                    "rep_id": rep_id,
                    "kind": kind,
                    "occurred_at": at,
                    "note": note,
                    "keyword_tags": keywords,
                },
                part=customer_part(customer_id),
                sort=sort,
            )
        return action

    def _order_booked(self, e: Any) -> None:
        eid = event_id(e.originator_id, e.originator_version)
        doc = self.customers[e.customer_id]
        signed_on = e.signed_on.isoformat()
        key = (signed_on, e.order_id)
        earlier_first = self._first.get(e.customer_id)
        first = earlier_first is None or key < earlier_first
        amount, margin = Decimal(e.amount), Decimal(e.gross_margin)
        order = {
            "order_id": e.order_id,
            "deal_id": e.deal_id,
            "customer_id": e.customer_id,
            "owner_rep_id": e.owner_rep_id,
            "signed_on": signed_on,
            "amount": str(amount),
            "gross_margin": str(margin),
            # BookOrder refuses an amount that is not positive.
            "margin_rate": str((margin / amount).quantize(Decimal("0.0001"), ROUND_HALF_UP)),
            "first_order": first,
            "cancelled": False,
            "cancelled_at": None,
            "cancel_reason": None,
            "booked_at": e.occurred_at.isoformat(),
            "sources": [eid],
        }
        if first and earlier_first is not None:
            # A late-recorded earlier order: the one that was first is a repeat order now.
            flipped = self.orders[earlier_first[1]]
            flipped["first_order"] = False
            self._put_order(flipped)
        if first:
            self._first[e.customer_id] = key
        self.orders[e.order_id] = order
        self._uuids[e.originator_id] = e.order_id
        self._put_order(order)
        summary = doc["orders"]
        summary["count"] += 1
        summary["first"], summary["repeat"] = 1, summary["count"] - 1
        summary["first_signed_on"], summary["first_order_id"] = self._first[e.customer_id]
        if summary["last_signed_on"] is None or signed_on > summary["last_signed_on"]:
            summary["last_signed_on"] = signed_on
        summary["amount"] = str(Decimal(summary["amount"]) + amount)
        summary["gross_margin"] = str(Decimal(summary["gross_margin"]) + margin)
        self._dirty.add(e.customer_id)

    def _order_cancelled(self, e: Any) -> None:
        eid = event_id(e.originator_id, e.originator_version)
        order = self.orders[self._uuids[e.originator_id]]
        summary = self.customers[order["customer_id"]]["orders"]
        order["cancelled"] = True
        order["cancelled_at"] = e.occurred_at.isoformat()
        order["cancel_reason"] = e.reason
        order["sources"] = [*order["sources"], eid]
        self._put_order(order)
        # Totals are of orders that stand; counts (and which order is first) include cancelled ones.
        summary["cancelled"] += 1
        summary["amount"] = str(Decimal(summary["amount"]) - Decimal(order["amount"]))
        summary["gross_margin"] = str(Decimal(summary["gross_margin"]) - Decimal(order["gross_margin"]))
        self._dirty.add(order["customer_id"])

    def _put_order(self, order: Document) -> None:
        self.changes.put(
            "order",
            order["order_id"],
            order,
            part=customer_part(order["customer_id"]),
            sort=order_sort(order["signed_on"], order["order_id"]),
        )

    def take_changes(self) -> list[DocChange]:
        for customer_id in sorted(self._dirty):
            self.changes.put("customer", customer_id, self.customers[customer_id])
        for customer_id in sorted(self._profiles):
            # What similarity between customers reads, small enough to scan them all.
            doc = self.customers[customer_id]
            profile = {k: doc[k] for k in ("customer_id", "name", "industry", "region")}
            self.changes.put("profile", customer_id, {**profile, "tags": list(doc["tags"])})
        for rep_id, period in sorted(self._rep_tags_dirty):
            doc = self._rep_tags[(rep_id, period)]
            self.changes.put("rep_tags", f"{rep_id}:{period}", doc, part=rep_part(rep_id), sort=period)
        self._dirty.clear()
        self._profiles.clear()
        self._rep_tags_dirty.clear()
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "rules":
            if doc.get("layout") != LAYOUT:
                raise StaleReadModel(f"customer360: saved in layout {doc.get('layout', '1')}, not {LAYOUT}")
            self.rules_in_use = dict(doc)
        elif kind == "customer":
            self.customers[key] = doc
            self._uuids[Customer.create_id(key)] = key
            for deal in doc["deals"]:
                self._deals[deal["deal_id"]] = (key, deal)
                self._uuids[Deal.create_id(deal["deal_id"])] = deal["deal_id"]
            for contact in doc["contacts"]:
                self._contacts[contact["contact_id"]] = (key, contact)
                self._uuids[Contact.create_id(contact["contact_id"])] = contact["contact_id"]
        elif kind == "rep_tags":
            self._rep_tags[(doc["rep_id"], doc["period"])] = doc
        elif kind == "order":
            self.orders[key] = doc
            self._uuids[Order.create_id(key)] = key
            order_key = (doc["signed_on"], key)
            first = self._first.get(doc["customer_id"])
            if first is None or order_key < first:
                self._first[doc["customer_id"]] = order_key
        else:
            raise ValueError(f"kind: {kind!r} is not a kind customer360 reads back")
