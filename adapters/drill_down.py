"""From a figure's source ids back to the stored events that produced it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from commands.store import EventStore
from projections.audit_trail import payload


def load_event(store: EventStore, event_id: str) -> tuple[str, Any] | None:
    """The stored event `AGGREGATE:VERSION` as (topic, domain event), or None."""
    originator, _, version = event_id.rpartition(":")
    try:
        aggregate, number = UUID(originator), int(version)
    except ValueError:
        return None
    if number < 1:
        return None
    stored = store.recorder.select_events(aggregate, gt=number - 1, lte=number, limit=1)
    if not stored:
        return None
    return stored[0].topic, store.mapper.to_domain_event(stored[0])


def summary(topic: str, event: Any) -> dict[str, Any]:
    occurred = getattr(event, "occurred_at", None)
    return {
        "type": topic.split(":", 1)[-1],
        "occurred_at": occurred.isoformat() if occurred is not None else None,
        "recorded_at": event.timestamp.isoformat(),
    }


def describe(store: EventStore, sources: Iterable[str]) -> dict[str, dict[str, Any]]:
    found = {source: load_event(store, source) for source in sorted(set(sources))}
    return {source: summary(*loaded) for source, loaded in found.items() if loaded is not None}


def event_document(store: EventStore, event_id: str) -> dict[str, Any] | None:
    loaded = load_event(store, event_id)
    if loaded is None:
        return None
    topic, event = loaded
    return {"event_id": event_id, **summary(topic, event), "data": payload(event)}
