"""Deal journeys folded from the store, read-only: the input of every deal analysis in replay/."""

from __future__ import annotations

from collections.abc import Callable

from commands.store import EventStore
from projections.deal_journeys import TOPICS, Journeys


def fold_journeys(
    store: EventStore, batch_size: int = 5000, on_progress: Callable[[int, int], None] | None = None
) -> Journeys:
    """Every deal's journey from the store's events up to its head now, in notification order."""
    if batch_size < 1:
        raise ValueError("batch_size: must be at least 1")
    journeys = Journeys()
    recorder, mapper = store.recorder, store.mapper
    head = recorder.max_notification_id() or 0
    position = 0
    while position < head:
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, topics=TOPICS, inclusive_of_start=False
        )
        for notification in notifications:
            journeys.apply(mapper.to_domain_event(notification))
        position = notifications[-1].id if len(notifications) == batch_size else head
        if on_progress is not None:
            on_progress(position, head)
    return journeys
