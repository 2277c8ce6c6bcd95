"""Deal journeys folded from the store, read-only: the input of every deal analysis in replay/."""

from __future__ import annotations

from collections.abc import Callable

from commands.store import EventStore
from projections.deal_journeys import TOPICS, Journeys
from replay.history import events


def fold_journeys(
    store: EventStore, batch_size: int = 5000, on_progress: Callable[[int, int], None] | None = None
) -> Journeys:
    """Every deal's journey from the store's events up to its head now, in notification order."""
    journeys = Journeys()
    for event in events(store, TOPICS, batch_size, on_progress):
        journeys.apply(event)
    return journeys
