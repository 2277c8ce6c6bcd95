"""As-of views: an aggregate's state at a past instant, by replaying its events up to that instant.

By recorded time, the state the system held then. By business time, the state the history now
says it had then: events recorded late but dated earlier count, events dated later do not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from commands.store import EventStore
from projections.json_text import plain

TimeAxis = Literal["business", "recorded"]


def _moment(event: Any, by: TimeAxis) -> datetime:
    if by == "business":
        occurred = getattr(event, "occurred_at", None)
        if isinstance(occurred, datetime):
            return occurred
    moment: datetime = event.timestamp
    return moment


def state_as_of(
    store: EventStore, aggregate_id: UUID, moment: datetime, by: TimeAxis
) -> dict[str, Any] | None:
    """The aggregate's public attributes at `moment`, or None if it did not exist yet."""
    if moment.tzinfo is None:
        raise ValueError("as_of: must carry a timezone (e.g. 2026-03-01T00:00:00+08:00)")
    aggregate: Any = None
    for stored in store.recorder.select_events(aggregate_id):
        event: Any = store.mapper.to_domain_event(stored)
        if _moment(event, by) > moment:
            continue
        if aggregate is None and event.originator_version != 1:
            # By business time a creation dated after the moment means the aggregate did not exist.
            return None
        if aggregate is not None:
            # Skipped later-dated events leave gaps in the version sequence; the fold does not care.
            aggregate.version = event.originator_version - 1
        aggregate = event.mutate(aggregate)
    if aggregate is None:
        return None
    state = {k: plain(v) for k, v in sorted(vars(aggregate).items()) if not k.startswith("_")}
    state["version"] = aggregate.version
    return state
