from __future__ import annotations

from collections import OrderedDict
from copy import deepcopy
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from commands.store import EventStore
from domain.errors import AlreadyExists, NotFound

A = TypeVar("A", bound=Aggregate)


class AggregateCache:
    """Aggregates as last saved by this process, so a bulk import reads each one once.

    Only safe because every save is a version-checked insert: if another writer got there
    first the save fails and the caller clears this cache and starts again from the store.
    """

    def __init__(self, maxsize: int = 100_000) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, key: UUID) -> Aggregate | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: UUID, aggregate: Aggregate) -> None:
        self._items[key] = aggregate
        self._items.move_to_end(key)
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def aggregates(self) -> list[Aggregate]:
        return list(self._items.values())


class UnitOfWork:
    """Loads aggregates, tracks what a command (or a batch of them) changed, saves it in one transaction.

    With `assume_new=True` (bulk import) ids that are about to be created are not looked up first:
    the unique (id, version) constraint refuses a clash at save time, and the batch is redone
    one command at a time.
    """

    def __init__(
        self,
        store: EventStore,
        cache: AggregateCache | None = None,
        assume_new: bool = False,
        shared: AggregateCache | None = None,
        always_reload: tuple[type[Aggregate], ...] = (),
    ):
        self.store = store
        self.cache = cache if cache is not None else AggregateCache()
        self.assume_new = assume_new
        # Aggregates this process saved last, copied before use so concurrent commands never share one.
        # Entities are safe to take from it: what a decision reads of an aggregate it does not write
        # (existence, owner role, customer) never changes, and what it writes is version-checked.
        # Aggregates whose current state steers decisions (policies, plans, periods) are reloaded.
        self.shared = shared
        self.always_reload = always_reload
        self._changed: dict[UUID, Aggregate] = {}
        self._read: dict[UUID, int] = {}
        # What the current command created or changed, and the events of finished commands in the
        # order the commands ran: the store's order must be the order things happened in.
        self._touched: dict[UUID, Aggregate] = {}
        self._events: list[Any] = []
        # Ids found absent during this unit of work, so a bulk import asks once.
        self._missing: set[UUID] = set()

    def find(self, cls: type[A], *key: str) -> A | None:
        aggregate_id = cls.create_id(*key)
        cached = self.cache.get(aggregate_id)
        if cached is None:
            if aggregate_id in self._missing:
                return None
            cached = self._from_shared(cls, aggregate_id)
            if cached is None:
                try:
                    cached = self.store.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    self._missing.add(aggregate_id)
                    return None
            self.cache.put(aggregate_id, cached)
        if not isinstance(cached, cls):
            raise TypeError(f"aggregate {aggregate_id} is a {type(cached).__name__}, not a {cls.__name__}")
        self._read.setdefault(aggregate_id, cached.version)
        return cached

    def _from_shared(self, cls: type[A], aggregate_id: UUID) -> Aggregate | None:
        if self.shared is None or issubclass(cls, self.always_reload):
            return None
        found = self.shared.get(aggregate_id)
        return deepcopy(found) if found is not None else None

    def get(self, cls: type[A], key: str, *, field: str, label: str) -> A:
        found = self.find(cls, key)
        if found is None:
            raise NotFound(field, f"unknown {label} {key!r}")
        return found

    def ensure_absent(self, cls: type[A], key: str, *, field: str, label: str) -> None:
        aggregate_id = cls.create_id(key)
        if self.assume_new and self.cache.get(aggregate_id) is None:
            return
        if self.find(cls, key) is not None:
            raise AlreadyExists(field, f"{label} {key!r} already exists")

    def singleton(self, cls: type[A]) -> A:
        found = self.find(cls)
        if found is None:
            found = cls()
            self.add(found)
        return found

    def add(self, aggregate: A) -> A:
        self.cache.put(aggregate.id, aggregate)
        self._missing.discard(aggregate.id)
        self._read[aggregate.id] = 0
        self._touched[aggregate.id] = aggregate
        return aggregate

    def begin_command(self) -> None:
        self._read = {}
        self._touched = {}

    def changed_since_begin(self) -> bool:
        """True if the current command mutated anything it read (a refusal must not)."""
        for aggregate_id, version in self._read.items():
            aggregate = self.cache.get(aggregate_id)
            if aggregate is not None and aggregate.version != version:
                return True
        return False

    def end_command(self) -> None:
        for aggregate_id in self._read:
            aggregate = self.cache.get(aggregate_id)
            if aggregate is not None and aggregate.pending_events:
                self._touched[aggregate_id] = aggregate
        events: list[Any] = []
        for aggregate_id, aggregate in self._touched.items():
            self._changed[aggregate_id] = aggregate
            events.extend(aggregate.collect_events())
        if len(self._touched) > 1:
            # Within one command, across its aggregates, in the order they were triggered (stable).
            events.sort(key=lambda event: event.timestamp)
        self._events.extend(events)
        self._read = {}
        self._touched = {}

    def take_events(self) -> list[Any]:
        """The new events of every command since the last take, in the order the commands ran."""
        self.end_command()
        events, self._events = self._events, []
        self._changed = {}
        return events

    def commit(self) -> int | None:
        """Saves every change in one transaction; returns the last store position written."""
        self.end_command()
        changed = list(self._changed.values())
        events = self.take_events()
        if not events:
            return None
        position = save_events(self.store, events)
        if self.shared is not None:
            for aggregate in changed:
                self.shared.put(aggregate.id, deepcopy(aggregate))
        return position

    def cached(self, cls: type[A], *key: str) -> A | None:
        """What this unit of work already holds, without asking the store."""
        found = self.cache.get(cls.create_id(*key))
        return found if isinstance(found, cls) else None

    def discard(self) -> None:
        self.cache.clear()
        self._missing = set()
        self._changed = {}
        self._read = {}
        self._touched = {}
        self._events = []


def save_events(store: EventStore, events: list[Any]) -> int | None:
    # Straight to the event store: Application.save would also run in-process notification and
    # snapshot hooks this service does not use, at a cost that dominates bulk imports.
    recordings = store.events.put(events)
    return max((r.notification.id for r in recordings), default=None)
