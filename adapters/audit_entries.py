"""A subject's audit trail: its aggregate's events read from the store, each with actor, business and
recorded time, what it changed, and its link in the hash chain as the audit read model recorded it.
Every aggregate's id follows from its business id (`create_id`), so a subject's events are looked up
by it; a period's are the ledger periods' closes and reruns of that period.

Only events the audit read model has folded (up to its position) are listed, so the trail and the
chain agree. Each entry also says whether the stored event still hashes to the recorded link
(`intact`): an event edited in the database after it was chained shows there, where it is read.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.doc_view import DocView
from adapters.event_positions import events_with_positions
from commands.store import EventStore
from domain.contract import Contract
from domain.customer import Contact, Customer
from domain.deal import Deal
from domain.ledger_periods import LedgerPeriods
from domain.order import Order
from domain.rep import Rep
from domain.requirement import RequirementRequest
from projections.audit_trail import ACTOR_FIELDS, GENESIS, SEGMENT, link, payload
from projections.read_model import Document, topic_of

AUDIT = "audit"
# The subjects with an aggregate of their own, by the name the CLI and the API give them.
AGGREGATES: dict[str, Any] = {
    "deal": Deal,
    "customer": Customer,
    "rep": Rep,
    "order": Order,
    "contact": Contact,
    "requirement": RequirementRequest,
    "contract": Contract,
}


class RecordedLinks:
    """The hashes the audit read model recorded, read a segment at a time."""

    def __init__(self, view: DocView) -> None:
        self.view = view
        self._segments: dict[int, tuple[list[int], list[str]] | None] = {}

    def _segment(self, number: int) -> tuple[list[int], list[str]] | None:
        if number not in self._segments:
            doc = self.view.get(AUDIT, "links", f"{number:012d}")
            self._segments[number] = None if doc is None else (list(doc["positions"]), list(doc["hashes"]))
        return self._segments[number]

    def at(self, position: int) -> str | None:
        """The hash recorded for the event at this position; None if none was."""
        segment = self._segment(position // SEGMENT)
        if segment is None:
            return None
        positions, hashes = segment
        index = bisect_left(positions, position)
        return hashes[index] if index < len(positions) and positions[index] == position else None

    def before(self, position: int) -> str:
        """The hash of the link before this position's: the chain's previous event, or its start."""
        number = position // SEGMENT
        while number >= 0:
            segment = self._segment(number)
            if segment is not None:
                positions, hashes = segment
                index = bisect_left(positions, position)
                if index > 0:
                    return hashes[index - 1]
            number -= 1
        return GENESIS


def trail(store: EventStore, view: DocView, subject: str, subject_id: str) -> list[Document]:
    """The entries of a subject (a period's are its closes and reruns), in store order."""
    if subject == "period":
        subjects = {LedgerPeriods.create_id(): ("periods", "book")}
        wanted: str | None = subject_id
    else:
        subjects, wanted = {AGGREGATES[subject].create_id(subject_id): (subject, subject_id)}, None
    upto = view.position(AUDIT)
    links = RecordedLinks(view)
    entries = []
    for notification in events_with_positions(store, list(subjects), upto):
        try:
            event = store.mapper.to_domain_event(notification)
        except Exception:  # an event edited so that it no longer decodes is a finding, not a failure
            originator = UUID(str(notification.originator_id))
            entries.append(_undecodable(notification, subjects[originator], links))
            continue
        body = payload(event)
        if wanted is not None and body.get("period") != wanted:
            continue
        entries.append(_entry(notification, event, body, subjects[event.originator_id], links))
    return entries


def _intact(notification: Notification, recorded: str | None, previous: str) -> bool:
    """Whether the stored event still hashes to the link recorded for it, after `previous`."""
    eid = f"{notification.originator_id}:{notification.originator_version}"
    return recorded == link(previous, notification.id, eid, notification.topic, notification.state)


def _undecodable(notification: Notification, subject: tuple[str, str], links: RecordedLinks) -> Document:
    position = notification.id
    recorded, previous = links.at(position), links.before(position)
    return {
        "position": position,
        "event_id": f"{notification.originator_id}:{notification.originator_version}",
        "type": notification.topic.split(":", 1)[-1],
        "subject": subject[0],
        "subject_id": subject[1],
        "actor": None,
        "occurred_at": None,
        "recorded_at": None,
        "changes": None,
        "previous_hash": previous,
        "hash": recorded,
        # Stored so (a class changed since, not the event), or edited so: the chain tells which.
        "intact": _intact(notification, recorded, previous),
    }


def _entry(
    notification: Notification, event: Any, body: Document, subject: tuple[str, str], links: RecordedLinks
) -> Document:
    position = notification.id
    topic = topic_of(event)
    eid = f"{event.originator_id}:{event.originator_version}"
    recorded, previous = links.at(position), links.before(position)
    actor = next((str(body[f]) for f in ACTOR_FIELDS if body.get(f) is not None), None)
    return {
        "position": position,
        "event_id": eid,
        "type": topic.split(":", 1)[1],
        "subject": subject[0],
        "subject_id": subject[1],
        "actor": actor,
        "occurred_at": body.get("occurred_at"),
        "recorded_at": event.timestamp.isoformat(),
        "changes": body,
        "previous_hash": previous,
        "hash": recorded,
        "intact": _intact(notification, recorded, previous),
    }
