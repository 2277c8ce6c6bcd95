"""Runs the ledger projection: loads its saved state, catches up from the store's notification log
in batches, and saves each batch with its tracking position in one transaction.

The ledger never skips a fact pay depends on: an event it cannot decode or fold halts it, where a read
model would park the event and go on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.catch_up_pipeline import Progress
from adapters.catch_up_pipeline import catch_up as pipelined_catch_up
from adapters.event_decoder import EventDecoder
from adapters.ledger_view import Encoded, LedgerView, PostgresLedgerView, SQLiteLedgerView, encode
from adapters.projection_runner import Shared
from adapters.read_ahead import Stored, read_batch
from commands.store import EventStore
from projections.ledger import Ledger
from projections.pay_facts import PAY_TOPICS

DEFAULT_BATCH_SIZE = 2000
_PAY = frozenset(PAY_TOPICS)


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
        self.decoder = EventDecoder(store.mapper)
        # The saved ledger is loaded when first asked for: a rebuild drops it unread (loading it took
        # a fifth of a rebuild's time), and one this version cannot read does not stop a rebuild.
        self._ledger: Ledger | None = None
        self._position = 0
        # Set when a catch-up failed: what it folded but did not save is lost, so the next one reloads.
        self.stale = False

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            return self._load()
        return self._ledger

    @property
    def position(self) -> int:
        if self._ledger is None:
            self._load()
        return self._position

    @position.setter
    def position(self, position: int) -> None:
        self._position = position

    def reload(self) -> None:
        self._load()

    def _load(self) -> Ledger:
        snapshot = self.view.load()
        ledger = Ledger()
        for kind, key, doc in snapshot.facts:
            ledger.facts.load(kind, key, doc)
        for period, doc, lines in snapshot.closed:
            ledger.load_closed(period, doc, lines)
        self._ledger = ledger
        self._position = snapshot.position
        self.stale = False
        return ledger

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def catch_up(
        self,
        *,
        save: bool = True,
        on_progress: Progress | None = None,
        max_batches: int | None = None,
    ) -> int:
        """Folds every event up to the store's current head (or `max_batches` batches of them); with
        save=False nothing is written (a sandbox reads the ledger as of now without moving it). Read
        ahead and written behind, as a read model's runner does (`adapters.catch_up_pipeline`)."""
        return pipelined_catch_up(self, save, on_progress, max_batches)

    def read(self, start: int, head: int) -> Sequence[Stored]:
        return read_batch(self.store, start, head, self.batch_size, PAY_TOPICS)

    def fold(self, notifications: Sequence[Stored], position: int, save: bool) -> Callable[[], None] | None:
        ledger, decode = self.ledger, self.decoder.decode
        for notification in notifications:
            ledger.apply(decode(notification))
        return partial(self.view.write, self._encode(), position) if save else None

    def _encode(self) -> Encoded:
        return encode(self.ledger.facts.take_changes(), self.ledger.take_closed_changes())

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
        """Folds the pay events of a batch read (and decoded) once for several projections. Returns the
        write of what it folded, with position `end`, to run next: its rows encoded now, since the
        ledger's documents are its live state, which the next batch goes on changing. A pay event that
        does not decode halts it, as it would alone."""
        after, ledger = self.position, self.ledger
        for notification, decoded in items:
            if notification.id > after and notification.topic in _PAY:
                ledger.apply(decoded if decoded is not None else self.decoder.decode(notification))
        batch = self._encode()
        self.position = end
        return partial(self.view.write, batch, end)

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
