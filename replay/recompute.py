"""Pay recomputed from history: a fresh in-memory ledger folded from the store's notification log,
and the lines of every period it knows of. Reads only; nothing is written anywhere."""

from __future__ import annotations

from collections.abc import Callable

from commands.store import EventStore
from domain.pay_history import Line
from projections.ledger import Ledger
from projections.pay_facts import PAY_TOPICS
from replay.history import events


def fold(
    store: EventStore,
    batch_size: int = 5000,
    on_progress: Callable[[int, int], None] | None = None,
    stop: int | None = None,
) -> Ledger:
    """A ledger built from every pay event in the store up to `stop` (default: its head now), in
    notification order."""
    ledger = Ledger()
    for event in events(store, PAY_TOPICS, batch_size, on_progress, stop):
        ledger.apply(event)
    return ledger


def recompute(
    store: EventStore, batch_size: int = 5000, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, list[Line]]:
    """Every period with pay facts or a close, by period, with its ledger lines as history has them."""
    ledger = fold(store, batch_size, on_progress)
    periods = sorted(set(ledger.facts.periods()) | set(ledger.closed))
    return {period: ledger.lines(period) for period in periods}
