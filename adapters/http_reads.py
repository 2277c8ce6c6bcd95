"""The API's read side: one ledger and one runner per read model, caught up before every answer.

A query catches its read model up with the store's head before answering, so it always sees
every write acknowledged before it was asked. `min_position` covers what that cannot: a position
the store has not shown yet (a write still committing elsewhere); the query waits for it, boundedly.
A position the store never reaches in that time was never written: the request is wrong (422).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from adapters.doc_view import DocView
from adapters.http_problems import NoSuchPosition, NotCaughtUp
from adapters.ledger_projection import LedgerProjection
from adapters.projection_runner import ProjectionRunner, open_doc_view, saved_status
from adapters.read_models import read_models
from adapters.settings import Settings
from commands.store import EventStore
from projections.deal_journeys import TOPICS as JOURNEY_TOPICS
from projections.deal_journeys import Journeys
from projections.ledger import Ledger

POLL_SECONDS = 0.05


class ReadSide:
    def __init__(self, store: EventStore, settings: Settings, wait_seconds: float) -> None:
        self.store = store
        self.view = open_doc_view(store)
        self.factories = read_models(settings)
        self.wait_seconds = wait_seconds
        self._ledger: LedgerProjection | None = None
        self._runners: dict[str, ProjectionRunner] = {}
        self._journeys = Journeys()
        self._journeys_position = 0
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def names(self) -> list[str]:
        return ["ledger", *self.factories]

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def reach(self, catch_up: Callable[[], int], min_position: int | None) -> int:
        """Catches up, then waits (boundedly) until the position caught up to is `min_position`."""
        position = catch_up()
        if min_position is None or position >= min_position:
            return position
        deadline = time.monotonic() + self.wait_seconds
        while position < min_position:
            if time.monotonic() >= deadline:
                head = self.store.recorder.max_notification_id() or 0
                if head < min_position:
                    raise NoSuchPosition(min_position, head)
                raise NotCaughtUp(min_position, position, self.wait_seconds)
            time.sleep(POLL_SECONDS)
            position = catch_up()
        return position

    @contextmanager
    def ledger(self, min_position: int | None = None) -> Iterator[tuple[Ledger, int]]:
        """The commission ledger, caught up; held under its lock, as folding mutates it in memory."""
        with self._lock("ledger"):
            if self._ledger is None:
                self._ledger = LedgerProjection(self.store)
            projection = self._ledger
            position = self.reach(projection.catch_up, min_position)
            yield projection.ledger, position

    @contextmanager
    def journeys(self, min_position: int | None = None) -> Iterator[tuple[Journeys, int]]:
        """Every deal's journey, folded in memory and kept: each call folds only the events since."""
        with self._lock("journeys"):
            position = self.reach(self._fold_journeys, min_position)
            yield self._journeys, position

    def _fold_journeys(self) -> int:
        recorder, head = self.store.recorder, self.store.recorder.max_notification_id() or 0
        while self._journeys_position < head:
            notifications = recorder.select_notifications(
                start=self._journeys_position,
                limit=5000,
                stop=head,
                topics=JOURNEY_TOPICS,
                inclusive_of_start=False,
            )
            for notification in notifications:
                self._journeys.apply(self.store.mapper.to_domain_event(notification))
            full = len(notifications) == 5000
            self._journeys_position = notifications[-1].id if full else head
        return self._journeys_position

    def runner(self, name: str) -> ProjectionRunner:
        with self._guard:
            runner = self._runners.get(name)
            if runner is None:
                runner = ProjectionRunner(self.store, self.view, self.factories[name])
                self._runners[name] = runner
            return runner

    def docs(self, name: str, min_position: int | None = None) -> tuple[DocView, int]:
        """A document read model caught up; its documents are read from the database, so only the
        fold needs the lock."""
        runner = self.runner(name)
        with self._lock(name):
            position = self.reach(runner.catch_up, min_position)
        return self.view, position

    def status(self) -> list[dict[str, object]]:
        """Each projection's saved position against the store's head, without moving any of them."""
        # The ledger tracks its position in the same table as the document read models.
        return [saved_status(self.store, self.view, name) for name in self.names()]
