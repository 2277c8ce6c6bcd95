"""An event stored under an older schema is upcast when it is read: the mechanism every salesledger
event relies on when a field changes (`class_version` on the event class, `upcast_vN_vN+1` steps)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from commands.store import EventStore


class VisitV1(Aggregate):
    """How a field visit was first recorded: where, when."""

    @event("Logged")
    def __init__(self, place: str, occurred_at: datetime) -> None:
        self.place = place


class VisitV2(Aggregate):
    """A later schema: visits also say how long they took; old records had no duration."""

    class Logged(Aggregate.Created):
        class_version = 2
        place: str
        minutes: int
        occurred_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["minutes"] = 0

    @event(Logged)
    def __init__(self, place: str, minutes: int, occurred_at: datetime) -> None:
        self.place = place
        self.minutes = minutes


def test_a_stored_v1_event_reads_back_as_v2(store: EventStore) -> None:
    # What the code of the first schema wrote: a VisitV1 record, stored under the topic that the
    # evolved class VisitV2 has today (as when a class keeps its name across a schema change).
    old = VisitV1(place="Shenzhen plant", occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    written = store.mapper.to_stored_event(old.collect_events()[0])
    assert b"class_version" not in written.state  # version 1 is implied, as for every event today
    state = written.state.replace(get_topic(VisitV1).encode(), get_topic(VisitV2).encode())
    store.recorder.insert_events([StoredEvent(written.originator_id, 1, get_topic(VisitV2.Logged), state)])

    upgraded = store.repository.get(old.id)
    assert isinstance(upgraded, VisitV2)
    assert (upgraded.place, upgraded.minutes) == ("Shenzhen plant", 0)

    # New events carry their version, so the next change of schema can upcast them in turn.
    new = VisitV2(place="Wuhan office", minutes=45, occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    store.save(new)
    assert b'"class_version":2' in store.recorder.select_events(new.id)[0].state
    assert store.repository.get(new.id).minutes == 45
