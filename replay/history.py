"""Reading the store's history in order, read-only: the loop every replay folds events with."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from commands.store import EventStore

Progress = Callable[[int, int], None]


def events(
    store: EventStore,
    topics: Sequence[str] = (),
    batch_size: int = 5000,
    on_progress: Progress | None = None,
    stop: int | None = None,
) -> Iterator[Any]:
    """Every event of the given topics (all when empty) up to `stop`, or the store's head now, in
    store order."""
    if batch_size < 1:
        raise ValueError("batch_size: must be at least 1")
    recorder, mapper = store.recorder, store.mapper
    head = (recorder.max_notification_id() or 0) if stop is None else stop
    position = 0
    while position < head:
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, topics=topics, inclusive_of_start=False
        )
        for notification in notifications:
            yield mapper.to_domain_event(notification)
        position = notifications[-1].id if len(notifications) == batch_size else head
        if on_progress is not None:
            on_progress(position, head)
