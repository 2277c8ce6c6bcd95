"""The audit trail: every event under its subject (deal, customer, rep, order, period, ...), with
actor, business and recorded time and what it changed, chained by a hash through store order so
that any later edit of the stored history shows."""

from __future__ import annotations

import hashlib
from typing import Any

from projections import json_text
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


def encoded_payload(event: Any) -> bytes:
    """The event's own fields as canonical JSON: what its link in the chain hashes."""
    return json_text.dumps_bytes({k: v for k, v in vars(event).items() if k not in BASE_FIELDS})


def payload(event: Any) -> Document:
    """The event's own fields as `plain` makes them, keys sorted; through orjson, which makes the very
    same JSON several times faster than `plain` walks it."""
    body: Document = json_text.loads(encoded_payload(event))
    return body


def chain(previous: str, position: int, eid: str, topic: str, body: Document) -> str:
    """The hash of one link: SHA-256 of the previous hash followed by the canonical JSON of
    [position, event id, topic, payload]."""
    canonical = json_text.dumps_bytes([position, eid, topic, body])
    return hashlib.sha256(previous.encode() + canonical).hexdigest()


def link(previous: str, position: int, eid: str, topic: str, encoded: bytes) -> str:
    """`chain` with the payload already encoded: the list is spelled out around it, which is what
    encoding the list makes, since an event id (UUID:version) and a topic (module:qualname) hold
    nothing JSON escapes."""
    canonical = b'[%d,"%s","%s",%s]' % (position, eid.encode(), topic.encode(), encoded)
    return hashlib.sha256(previous.encode() + canonical).hexdigest()


class AuditTrail:
    name = "audit"
    topics: tuple[str, ...] = ()
    state_kinds: tuple[str, ...] = ("subject", "chain")

    def __init__(self) -> None:
        self.subjects: dict[str, tuple[str, str]] = {}
        self.head: tuple[int, str] = (0, GENESIS)
        self.changes = Changes()
        self._topics: dict[type, str] = {}

    def apply(self, event: Any, position: int) -> None:
        cls = type(event)
        topic = self._topics.get(cls) or self._topics.setdefault(cls, topic_of(event))
        # Encoded once: the same bytes make the hash and, parsed back, the entry's "changes".
        encoded = encoded_payload(event)
        body: Document = json_text.loads(encoded)
        originator = str(event.originator_id)
        eid = f"{originator}:{event.originator_version}"
        kind, key = self._subject(topic, originator, body)
        previous = self.head[1]
        digest = link(previous, position, eid, topic, encoded)
        actor = None
        for name in ACTOR_FIELDS:
            value = body.get(name)
            if value is not None:
                actor = str(value)
                break
        entry = {
            "position": position,
            "event_id": eid,
            "type": topic.split(":", 1)[1],
            "subject": kind,
            "subject_id": key,
            "actor": actor,
            "occurred_at": body.get("occurred_at"),
            "recorded_at": event.timestamp.isoformat(),
            "changes": body,
            "previous_hash": previous,
            "hash": digest,
        }
        sort = f"{position:012d}"
        pending = self.changes.pending
        pending[("entry", sort)] = DocChange("entry", sort, entry, f"{kind}:{key}", sort)
        if kind == "periods" and "period" in body:
            # A period's own trail: closes and reruns, under the period they concern.
            self.changes.put("entry", f"{sort}:period", entry, part=f"period:{body['period']}", sort=sort)
        self.head = (position, digest)

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
        # The chain's head is saved once a batch, with the batch's last entry.
        position, digest = self.head
        if position:
            self.changes.put("chain", "head", {"position": position, "hash": digest})
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "subject":
            self.subjects[key] = (doc["kind"], doc["key"])
        elif kind == "chain":
            self.head = (int(doc["position"]), str(doc["hash"]))
