"""Runs the ledger projection: loads its saved state, catches up from the store's notification log
in batches, and saves each batch with its tracking position in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.gc_quiet import quiet_gc
from adapters.ledger_view import LedgerView, PostgresLedgerView, SQLiteLedgerView
from adapters.projection_runner import Shared
from commands.store import EventStore
from projections.ledger import Ledger
from projections.pay_facts import PAY_TOPICS

DEFAULT_BATCH_SIZE = 2000
_PAY = frozenset(PAY_TOPICS)


def _written() -> None:
    """The ledger saves as it folds: nothing is left to write."""


def open_ledger_view(store: EventStore) -> LedgerView:
    if isinstance(store.recorder, PostgresApplicationRecorder):
        return cast("PostgresLedgerView", store.factory.tracking_recorder(PostgresLedgerView))
    return cast("SQLiteLedgerView", store.factory.tracking_recorder(SQLiteLedgerView))


class LedgerProjection:
    name = "ledger"

    def __init__(self, store: EventStore, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.store = store
        self.batch_size = batch_size
        self.view = open_ledger_view(store)
        self.ledger = Ledger()
        self.position = 0
        self.reload()

    def reload(self) -> None:
        snapshot = self.view.load()
        ledger = Ledger()
        for kind, key, doc in snapshot.facts:
            ledger.facts.load(kind, key, doc)
        for period, doc, lines in snapshot.closed:
            ledger.load_closed(period, doc, lines)
        self.ledger = ledger
        self.position = snapshot.position

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def catch_up(
        self,
        *,
        save: bool = True,
        on_progress: Callable[[int, int], None] | None = None,
        max_batches: int | None = None,
    ) -> int:
        """Folds every event up to the store's current head (or `max_batches` batches of them); with
        save=False nothing is written (a sandbox reads the ledger as of now without moving it)."""
        with quiet_gc():
            return self._catch_up(save, on_progress, max_batches)

    def _catch_up(
        self, save: bool, on_progress: Callable[[int, int], None] | None, max_batches: int | None
    ) -> int:
        head = self.head()
        batches = 0
        while self.position < head and (max_batches is None or batches < max_batches):
            batches += 1
            notifications = self.store.recorder.select_notifications(
                start=self.position,
                limit=self.batch_size,
                stop=head,
                topics=PAY_TOPICS,
                inclusive_of_start=False,
            )
            for notification in notifications:
                self.ledger.apply(self.store.mapper.to_domain_event(notification))
            full = len(notifications) == self.batch_size
            position = notifications[-1].id if full else head
            if save:
                try:
                    self.view.save(
                        self.ledger.facts.take_changes(), self.ledger.take_closed_changes(), position
                    )
                except IntegrityError:
                    # Another process tracked this far already: its state is as good as ours.
                    self.reload()
                    continue
            self.position = position
            if on_progress is not None:
                on_progress(position, head)
        return self.position

    def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Drops the saved ledger and folds the whole history again, batch by batch."""
        self.reset()
        return self.catch_up(on_progress=on_progress)

    def reset(self) -> None:
        self.view.reset()
        self.reload()

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(PAY_TOPICS)

    @property
    def decodes(self) -> bool:
        return True

    def fold_shared(self, items: Sequence[Shared], end: int) -> Callable[[], None]:
        """Folds the pay events of a batch read (and decoded) once for several projections, and saves
        them with position `end` before it returns: the ledger's documents are its live state, which
        the next batch goes on changing. A pay event that does not decode halts it, as it would alone."""
        after = self.position
        for notification, decoded in items:
            if notification.id > after and notification.topic in _PAY:
                stored = cast("Notification", notification)
                event = decoded if decoded is not None else self.store.mapper.to_domain_event(stored)
                self.ledger.apply(event)
        self.view.save(self.ledger.facts.take_changes(), self.ledger.take_closed_changes(), end)
        self.position = end
        return _written

    def status(self) -> dict[str, Any]:
        head = self.head()
        return {
            "projection": "ledger",
            "position": self.position,
            "head": head,
            "lag": head - self.position,
            "closed_periods": sorted(self.ledger.closed),
            "first_open": self.ledger.first_open,
        }
