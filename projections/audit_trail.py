"""The audit trail: every event under its subject (deal, customer, rep, order, period, ...), with
actor, business and recorded time and what it changed, chained by a hash through store order so
that any later edit of the stored history shows.

The read model keeps what the store does not: the subject each aggregate belongs to (named by its
creation event) and the hash of every event's link in the chain, in segments of SEGMENT positions. A
subject's trail is read from the store itself — its aggregates' events with their positions — next to
the recorded hashes (adapters/audit_entries.py). It once kept a copy of every event as a document: that
doubled the store, and rebuilding it took three times as long as reading the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any

from projections import json_text
from projections.read_model import Changes, DocChange, Document, StaleReadModel, topic_of
from projections.stored_payload import encoded_stored_payload, event_topic

GENESIS = "0" * 64
# Positions per `links` document: a trail's hashes are a read or two; a rebuild writes few documents.
SEGMENT = 1000
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


def segment_key(position: int) -> str:
    return f"{position // SEGMENT:012d}"


def subject_part(kind: str, key: str) -> str:
    return f"{kind}:{key}"


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
        # The segment the head is in: its positions and their hashes, in order.
        self._segment = -1
        self._positions: list[int] = []
        self._hashes: list[str] = []

    def apply(self, event: Any, position: int) -> None:
        cls = type(event)
        topic = self._topics.get(cls) or self._topics.setdefault(cls, topic_of(event))
        originator = str(event.originator_id)
        eid = f"{originator}:{event.originator_version}"
        # The subject first: an event without its subject's field fails before the chain moves on.
        if originator not in self.subjects:
            self._new_subject(topic, originator, partial(getattr, event))
        self._link(position, eid, topic, encoded_payload(event))

    def apply_stored(self, stored: Any, position: int) -> bool:
        """`apply` from the stored event (topic, originator id and version, state bytes) without
        decoding it: the same link and subject. False, with nothing changed, when only decoding can
        read it; the caller then decodes it and calls `apply`."""
        read = encoded_stored_payload(stored.topic, stored.state)
        if read is None:
            return False
        encoded, fields = read
        topic = event_topic(stored.topic)[0]
        originator = str(stored.originator_id)
        eid = f"{originator}:{stored.originator_version}"
        if originator not in self.subjects:
            self._new_subject(topic, originator, fields.__getitem__)
        self._link(position, eid, topic, encoded)
        return True

    def _link(self, position: int, eid: str, topic: str, encoded: bytes) -> None:
        digest = link(self.head[1], position, eid, topic, encoded)
        segment = position // SEGMENT
        if segment != self._segment:
            self._put_segment()
            self._segment, self._positions, self._hashes = segment, [], []
        self._positions.append(position)
        self._hashes.append(digest)
        self.head = (position, digest)

    def _new_subject(self, topic: str, originator: str, field_of: Callable[[str], Any]) -> None:
        if topic in SUBJECT_OF_CREATION:
            kind, field = SUBJECT_OF_CREATION[topic]
            subject = (kind, str(json_text.plain(field_of(field))))
        elif topic in SINGLETONS:
            subject = SINGLETONS[topic]
        else:
            subject = ("aggregate", originator)
        if subject[0] == "command":
            return  # a command receipt has one event ever, and no trail of its own to look up
        self.subjects[originator] = subject
        kind, key = subject
        self.changes.put("subject", originator, {"kind": kind, "key": key}, part=subject_part(kind, key))

    def _put_segment(self) -> None:
        if self._positions:
            doc = {"positions": list(self._positions), "hashes": list(self._hashes)}
            self.changes.put("links", f"{self._segment:012d}", doc)

    def take_changes(self) -> list[DocChange]:
        position, digest = self.head
        if position:
            self._put_segment()
            # The open segment rides with the head, so a restarted fold goes on filling it.
            chain = {"position": position, "hash": digest, "segment": self._segment}
            segment = {"positions": list(self._positions), "hashes": list(self._hashes)}
            self.changes.put("chain", "head", {**chain, **segment})
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "subject":
            self.subjects[key] = (doc["kind"], doc["key"])
        elif kind == "chain":
            if "segment" not in doc:
                raise StaleReadModel("audit: saved with an entry document per event; links replace them")
            self.head = (int(doc["position"]), str(doc["hash"]))
            self._segment = int(doc["segment"])
            self._positions = [int(p) for p in doc["positions"]]
            self._hashes = [str(h) for h in doc["hashes"]]
