"""The audit trail: every event under its subject (deal, customer, rep, order, period, ...), with
actor, business and recorded time and what it changed, chained by a hash through store order so
that any later edit of the stored history shows.

The chain hashes what the store holds — each event's position, id, stored topic and stored state
bytes — not the event as it decodes today. So everything stored is covered (its recorded time too),
an upcaster or a renamed class that changes how an old event reads does not break the chain, an
auditor can recompute it from the table with nothing but SHA-256, and a rebuild folds the chain from
the rows without decoding them (the fold once read every event's fields back into canonical JSON:
40% of the audit rebuild's time).

The read model keeps what the store does not: the hash of every event's link in the chain, in segments
of SEGMENT positions. A subject's trail is read from the store itself — its aggregate's events with
their positions, the aggregate's id made from the subject's (adapters/audit_entries.py) — next to the
recorded hashes. It once kept a copy of every event as a document: that doubled the store, and
rebuilding it took three times as long as reading the store; then a document per aggregate naming its
subject, a fifth of every document a rebuild wrote, where the id tells.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from projections import json_text
from projections.read_model import Changes, DocChange, Document, StaleReadModel

GENESIS = "0" * 64
# Positions per `links` document: a trail's hashes are a read or two; a rebuild writes few documents.
SEGMENT = 1000
# The chain's form; a chain recorded in another is folded again from the store. 2: stored bytes;
# 3: no subject documents.
LAYOUT = 3
BASE_FIELDS = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})
# Who acted, by the first of these fields the event has.
ACTOR_FIELDS = ("rep_id", "approved_by", "owner_rep_id", "department")


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


class AuditTrail:
    name = "audit"
    topics: tuple[str, ...] = ()
    state_kinds: tuple[str, ...] = ("chain",)
    # Folds the events as stored (`read_ahead.Stored`), never decoded: the chain hashes stored bytes.
    folds_stored = True

    def __init__(self) -> None:
        self.head: tuple[int, str] = (0, GENESIS)
        self.changes = Changes()
        # The segment the head is in: its positions and their hashes, in order.
        self._segment = -1
        self._positions: list[int] = []
        self._hashes: list[str] = []

    def apply(self, stored: Any, position: int) -> None:
        """Links a stored event (position, originator id and version, topic, state bytes)."""
        eid = f"{stored.originator_id}:{stored.originator_version}"
        digest = link(self.head[1], position, eid, stored.topic, stored.state)
        segment = position // SEGMENT
        if segment != self._segment:
            self._put_segment()
            self._segment, self._positions, self._hashes = segment, [], []
        self._positions.append(position)
        self._hashes.append(digest)
        self.head = (position, digest)

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
        if kind == "chain":
            if "segment" not in doc:
                raise StaleReadModel("audit: saved with an entry document per event; links replace them")
            if doc.get("layout") != LAYOUT:
                raise StaleReadModel(f"audit: chain layout {doc.get('layout', 1)}, not {LAYOUT}")
            self.head = (int(doc["position"]), str(doc["hash"]))
            self._segment = int(doc["segment"])
            self._positions = [int(p) for p in doc["positions"]]
            self._hashes = [str(h) for h in doc["hashes"]]
