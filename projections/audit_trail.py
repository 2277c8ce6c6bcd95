"""The audit trail: every event under its subject (deal, customer, rep, order, period, ...), with
actor, business and recorded time and what it changed, chained by a hash through store order so
that any later edit of the stored history shows."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from domain.ids import event_id
from projections.read_model import Changes, DocChange, Document, topic_of

GENESIS = "0" * 64
BASE_FIELDS = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})
# Creation events name their subject; every later event of the aggregate inherits it.
SUBJECT_OF_CREATION = {
    "domain.rep:Rep.Onboarded": ("rep", "rep_id"),
    "domain.customer:Customer.Registered": ("customer", "customer_id"),
    "domain.customer:Contact.Added": ("contact", "contact_id"),
    "domain.deal:Deal.Opened": ("deal", "deal_id"),
    "domain.order:Order.Booked": ("order", "order_id"),
    "domain.requirement:RequirementRequest.Submitted": ("requirement", "request_id"),
    "domain.contract:Contract.Submitted": ("contract", "contract_id"),
    "domain.receipt:CommandReceipt.Handled": ("command", "command_id"),
}
SINGLETONS = {
    "domain.plan_book:PlanBook.Opened": ("plans", "book"),
    "domain.gate_book:GateBook.Opened": ("gates", "book"),
    "domain.ledger_periods:LedgerPeriods.Opened": ("periods", "book"),
}
# Who acted, by the first of these fields the event has.
ACTOR_FIELDS = ("rep_id", "approved_by", "owner_rep_id", "department")


# Most event values are already JSON: they skip the checks below (exact types, so an enum that is
# also a str still goes through them).
_JSON_SCALARS = frozenset({str, int, bool, float, type(None)})


def plain(value: Any) -> Any:
    """A JSON value for anything an event holds, the same on every decode of the same bytes."""
    if type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def payload(event: Any) -> Document:
    return {k: plain(v) for k, v in sorted(vars(event).items()) if k not in BASE_FIELDS}


def chain(previous: str, position: int, eid: str, topic: str, body: Document) -> str:
    canonical = json.dumps(
        [position, eid, topic, body], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(f"{previous}{canonical}".encode()).hexdigest()


class AuditTrail:
    name = "audit"
    topics: tuple[str, ...] = ()
    state_kinds: tuple[str, ...] = ("subject", "chain")

    def __init__(self) -> None:
        self.subjects: dict[str, tuple[str, str]] = {}
        self.head: tuple[int, str] = (0, GENESIS)
        self.changes = Changes()

    def apply(self, event: Any, position: int) -> None:
        topic = topic_of(event)
        originator = str(event.originator_id)
        body = payload(event)
        subject = self._subject(topic, originator, body)
        eid = event_id(event.originator_id, event.originator_version)
        digest = chain(self.head[1], position, eid, topic, body)
        actor = next((str(body[f]) for f in ACTOR_FIELDS if body.get(f) is not None), None)
        kind, key = subject
        entry = {
            "position": position,
            "event_id": eid,
            "type": topic.split(":", 1)[1],
            "subject": kind,
            "subject_id": key,
            "actor": actor,
            "occurred_at": body.get("occurred_at"),
            "recorded_at": plain(event.timestamp),
            "changes": body,
            "previous_hash": self.head[1],
            "hash": digest,
        }
        sort = f"{position:012d}"
        self.changes.put("entry", sort, entry, part=f"{kind}:{key}", sort=sort)
        if "period" in body and kind == "periods":
            # A period's own trail: closes and reruns, under the period they concern.
            self.changes.put("entry", f"{sort}:period", entry, part=f"period:{body['period']}", sort=sort)
        self.head = (position, digest)
        self.changes.put("chain", "head", {"position": position, "hash": digest})

    def _subject(self, topic: str, originator: str, body: Document) -> tuple[str, str]:
        known = self.subjects.get(originator)
        if known is not None:
            return known
        if topic in SUBJECT_OF_CREATION:
            kind, field = SUBJECT_OF_CREATION[topic]
            subject = (kind, str(body[field]))
        elif topic in SINGLETONS:
            subject = SINGLETONS[topic]
        else:
            subject = ("aggregate", originator)
        if subject[0] != "command":
            # A command receipt has one event ever: no later event needs to find its subject.
            self.subjects[originator] = subject
            self.changes.put("subject", originator, {"kind": subject[0], "key": subject[1]})
        return subject

    def take_changes(self) -> list[DocChange]:
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "subject":
            self.subjects[key] = (doc["kind"], doc["key"])
        elif kind == "chain":
            self.head = (int(doc["position"]), str(doc["hash"]))
