"""The audit trail: every event under its subject (deal, customer, rep, order, period, ...), with
actor, business and recorded time and what it changed, chained by a hash through store order so
that any later edit of the stored history shows.

The chain hashes what the store holds — each event's position, id, stored topic and stored state
bytes — not the event as it decodes today. So everything stored is covered (its recorded time too),
an upcaster or a renamed class that changes how an old event reads does not break the chain, an
auditor can recompute it from the table with nothing but SHA-256, and a rebuild folds the chain from
the rows without decoding them (the fold once read every event's fields back into canonical JSON:
40% of the audit rebuild's time).

The read model keeps what the store does not: the subject each aggregate belongs to (named by its
creation event) and the hash of every event's link in the chain, in segments of SEGMENT positions. A
subject's trail is read from the store itself — its aggregates' events with their positions — next to
the recorded hashes (adapters/audit_entries.py). It once kept a copy of every event as a document: that
doubled the store, and rebuilding it took three times as long as reading the store.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from projections import json_text
from projections.read_model import Changes, DocChange, Document, StaleReadModel

GENESIS = "0" * 64
# Positions per `links` document: a trail's hashes are a read or two; a rebuild writes few documents.
SEGMENT = 1000
# The chain's form; a chain recorded in another is folded again from the store. 2: stored bytes.
LAYOUT = 2
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
    """The event's own fields as canonical JSON (what an audit entry shows as its changes)."""
    return json_text.dumps_bytes({k: v for k, v in vars(event).items() if k not in BASE_FIELDS})


def payload(event: Any) -> Document:
    """The event's own fields as `plain` makes them, keys sorted; through orjson, which makes the very
    same JSON several times faster than `plain` walks it."""
    body: Document = json_text.loads(encoded_payload(event))
    return body


def link(previous: str, position: int, eid: str, topic: str, state: bytes) -> str:
    """The hash of one link: SHA-256 of the previous link's hash (64 hex digits), then the JSON array
    [position, event id, stored topic] (no spaces), then the stored state bytes as they are."""
    header = orjson.dumps([position, eid, topic])
    return hashlib.sha256(previous.encode() + header + state).hexdigest()


@cache
def class_topic(stored_topic: str) -> str:
    """The topic of the class a stored topic names now (a renamed class is registered under its old
    one); the stored topic itself when no class answers to it."""
    try:
        cls = resolve_topic(stored_topic)
    except Exception:  # a topic no class answers to is still chained, under no subject of its own
        return stored_topic
    return f"{cls.__module__}:{cls.__qualname__}"


def subject_key(state: bytes, field: str) -> str | None:
    """The creation event's subject id, read from its stored state; None if it has none readable."""
    try:
        value = orjson.loads(state).get(field)
    except Exception:  # not a JSON object: the aggregate is its own subject
        return None
    if isinstance(value, dict) and value.get("_type_") == "uuid_hex":
        return str(UUID(value["_data_"]))
    return value if isinstance(value, str) and value else None


class AuditTrail:
    name = "audit"
    topics: tuple[str, ...] = ()
    state_kinds: tuple[str, ...] = ("subject", "chain")
    # Folds the events as stored (`read_ahead.Stored`), never decoded: the chain hashes stored bytes.
    folds_stored = True

    def __init__(self) -> None:
        self.subjects: dict[str, tuple[str, str]] = {}
        self.head: tuple[int, str] = (0, GENESIS)
        self.changes = Changes()
        # The segment the head is in: its positions and their hashes, in order.
        self._segment = -1
        self._positions: list[int] = []
        self._hashes: list[str] = []

    def apply(self, stored: Any, position: int) -> None:
        """Links a stored event (position, originator id and version, topic, state bytes)."""
        originator = str(stored.originator_id)
        topic: str = stored.topic
        if originator not in self.subjects:
            self._new_subject(topic, originator, stored.state)
        digest = link(
            self.head[1], position, f"{originator}:{stored.originator_version}", topic, stored.state
        )
        segment = position // SEGMENT
        if segment != self._segment:
            self._put_segment()
            self._segment, self._positions, self._hashes = segment, [], []
        self._positions.append(position)
        self._hashes.append(digest)
        self.head = (position, digest)

    def _new_subject(self, stored_topic: str, originator: str, state: bytes) -> None:
        topic = class_topic(stored_topic)
        subject: tuple[str, str] | None = None
        if topic in SUBJECT_OF_CREATION:
            kind, field = SUBJECT_OF_CREATION[topic]
            if kind == "command":
                return  # a command receipt has one event ever, and no trail of its own to look up
            key = subject_key(state, field)
            subject = None if key is None else (kind, key)
        elif topic in SINGLETONS:
            subject = SINGLETONS[topic]
        # An aggregate whose first event names no subject is its own.
        subject = subject or ("aggregate", originator)
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
            chain = {"layout": LAYOUT, "position": position, "hash": digest, "segment": self._segment}
            segment = {"positions": list(self._positions), "hashes": list(self._hashes)}
            self.changes.put("chain", "head", {**chain, **segment})
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "subject":
            self.subjects[key] = (doc["kind"], doc["key"])
        elif kind == "chain":
            if "segment" not in doc:
                raise StaleReadModel("audit: saved with an entry document per event; links replace them")
            if doc.get("layout") != LAYOUT:
                raise StaleReadModel("audit: a chain of decoded payloads; the chain now hashes stored bytes")
            self.head = (int(doc["position"]), str(doc["hash"]))
            self._segment = int(doc["segment"])
            self._positions = [int(p) for p in doc["positions"]]
            self._hashes = [str(h) for h in doc["hashes"]]
