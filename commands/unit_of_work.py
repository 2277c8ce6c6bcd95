from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from commands.store import EventStore
from domain.errors import AlreadyExists, NotFound
from domain.receipt import CommandReceipt, ReceiptFacts

# Receipts this unit of work recorded, remembered so a bulk import spots a command_id repeated
# within reach without asking the store; one forgotten is still caught by the store's unique key.
RECEIPTS_REMEMBERED = 100_000

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

    def peek(self, key: UUID) -> Aggregate | None:
        """The cached aggregate, without counting as a use."""
        return self._items.get(key)

    def put(self, key: UUID, aggregate: Aggregate) -> None:
        self._items[key] = aggregate
        self._items.move_to_end(key)
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def aggregates(self) -> list[Aggregate]:
        return list(self._items.values())


class SharedAggregates:
    """What this process last saved or read, for the next command to start from; thread-safe.

    Handed over, never copied: a command takes an aggregate out, and its unit of work offers it
    back only after a successful commit, when nothing will touch that object again. So no two
    commands ever hold the same object, and one that failed half-way never returns what it held
    (the next command reads it from the store). Only safe because every save is version-checked:
    whoever clashes with another writer clears this and rereads.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()
        # Ids last seen absent; only kept for aggregates whose reads the store confirms at save.
        self._absent: set[UUID] = set()

    def take(self, key: UUID) -> Aggregate | None:
        with self._lock:
            return self._items.pop(key, None)

    def offer(self, aggregate: Aggregate) -> None:
        """Keeps the aggregate for the next command, unless one as recent is already kept."""
        with self._lock:
            known = self._items.get(aggregate.id)
            if known is not None and known.version >= aggregate.version:
                return
            self._absent.discard(aggregate.id)
            self._items[aggregate.id] = aggregate
            self._items.move_to_end(aggregate.id)
            if len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def offer_absent(self, key: UUID) -> None:
        with self._lock:
            if key not in self._items:
                self._absent.add(key)

    def known_absent(self, key: UUID) -> bool:
        with self._lock:
            return key in self._absent

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._absent.clear()


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
        shared: SharedAggregates | None = None,
        always_reload: tuple[type[Aggregate], ...] = (),
    ):
        self.store = store
        self.cache = cache if cache is not None else AggregateCache()
        self.assume_new = assume_new
        # Aggregates this process saved or read last, taken out for this unit of work alone.
        # Entities are safe to take from it: what a decision reads of an aggregate it does not write
        # (existence, owner role, customer) never changes, and what it writes is version-checked.
        # Aggregates whose current state steers decisions (policies, plans, periods) are reloaded,
        # unless the store confirms at save time that they are still at the versions read.
        self.shared = shared
        self.always_reload = always_reload
        self.checks_reads: bool = getattr(store.recorder, "checks_reads", False)
        # Versions of those aggregates as read (0: absent), for the store to confirm.
        self._checked: dict[UUID, int] = {}
        self._read: dict[UUID, int] = {}
        # What the current command created or changed, and the events of finished commands in the
        # order the commands ran: the store's order must be the order things happened in.
        self._touched: dict[UUID, Aggregate] = {}
        self._events: list[Any] = []
        # Ids found absent during this unit of work, so a bulk import asks once.
        self._missing: set[UUID] = set()
        self._receipts: dict[str, CommandReceipt.Handled] = {}
        self._receipt: CommandReceipt.Handled | None = None

    def find(self, cls: type[A], *key: str) -> A | None:
        aggregate_id = cls.create_id(*key)
        cached = self.cache.get(aggregate_id)
        if cached is None:
            if aggregate_id in self._missing:
                return None
            checked = self.checks_reads and issubclass(cls, self.always_reload)
            cached = self._from_shared(cls, aggregate_id, checked)
            if cached is None:
                try:
                    if checked and self.shared is not None and self.shared.known_absent(aggregate_id):
                        raise AggregateNotFoundError(aggregate_id)
                    cached = self.store.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    self._missing.add(aggregate_id)
                    if checked:
                        self._checked.setdefault(aggregate_id, 0)
                    return None
            self.cache.put(aggregate_id, cached)
            if checked:
                self._checked.setdefault(aggregate_id, cached.version)
        if not isinstance(cached, cls):
            raise TypeError(f"aggregate {aggregate_id} is a {type(cached).__name__}, not a {cls.__name__}")
        self._read.setdefault(aggregate_id, cached.version)
        return cached

    def _from_shared(self, cls: type[A], aggregate_id: UUID, checked: bool) -> Aggregate | None:
        if self.shared is None or (issubclass(cls, self.always_reload) and not checked):
            return None
        return self.shared.take(aggregate_id)

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
        self._receipt = None

    def add_receipt(self, receipt: CommandReceipt.Handled) -> None:
        """The current command's receipt, saved right after what the command wrote."""
        self._receipt = receipt
        self._receipts[receipt.command_id] = receipt
        if len(self._receipts) > RECEIPTS_REMEMBERED:
            del self._receipts[next(iter(self._receipts))]

    def receipt(self, command_id: str, *, from_store: bool) -> ReceiptFacts | None:
        """The receipt of command_id this unit of work recorded, else (if asked) the stored one."""
        own = self._receipts.get(command_id)
        if own is not None or not from_store:
            return own
        return self.find(CommandReceipt, command_id)

    def changed_since_begin(self) -> bool:
        """True if the current command mutated anything it read (a refusal must not)."""
        for aggregate_id, version in self._read.items():
            aggregate = self.cache.peek(aggregate_id)
            if aggregate is not None and aggregate.version != version:
                return True
        return False

    def end_command(self) -> None:
        for aggregate_id in self._read:
            aggregate = self.cache.peek(aggregate_id)
            if aggregate is not None and aggregate.pending_events:
                self._touched[aggregate_id] = aggregate
        events: list[Any] = []
        for aggregate in self._touched.values():
            events.extend(aggregate.collect_events())
        if len(self._touched) > 1:
            # Within one command, across its aggregates, in the order they were triggered (stable).
            events.sort(key=lambda event: event.timestamp)
        if self._receipt is not None:
            events.append(self._receipt)
        self._events.extend(events)
        self._read = {}
        self._touched = {}
        self._receipt = None

    def take_events(self) -> list[Any]:
        """The new events of every command since the last take, in the order the commands ran."""
        self.end_command()
        events, self._events = self._events, []
        return events

    def commit(self) -> int | None:
        """Saves every change in one transaction; returns the last store position written."""
        events = self.take_events()
        position = save_events(self.store, events, self._checked) if events else None
        if self.shared is not None:
            self._share()
        return position

    def _share(self) -> None:
        assert self.shared is not None
        self.share_with(self.shared, self.always_reload)
        for aggregate_id, version in self._checked.items():
            if version == 0 and self.cache.peek(aggregate_id) is None:
                self.shared.offer_absent(aggregate_id)

    def share_with(self, shared: SharedAggregates, always_reload: tuple[type[Aggregate], ...]) -> None:
        """Hands everything this unit of work read or wrote to the next commands.

        Only once it is saved and the unit of work is done with it: each is then at least as fresh
        as any copy kept so far, and nothing here touches it again.
        """
        for aggregate in self.cache.aggregates():
            if self.checks_reads or not isinstance(aggregate, always_reload):
                shared.offer(aggregate)

    def discard(self) -> None:
        self.cache.clear()
        self._missing = set()
        self._read = {}
        self._touched = {}
        self._events = []
        self._receipts = {}
        self._receipt = None
        self._checked = {}


def save_events(
    store: EventStore, events: list[Any], read_versions: dict[UUID, int] | None = None
) -> int | None:
    """Saves events in one transaction; returns the last store position written.

    Straight to the recorder: Application.save would also run in-process notification and
    snapshot hooks this service does not use, and the event store would wrap each saved event
    in a record nothing here reads, at a cost that shows in bulk imports.
    """
    stored = [store.mapper.to_stored_event(event) for event in events]
    if read_versions:
        positions = store.recorder.insert_events(stored, read_versions=read_versions)
    else:
        positions = store.recorder.insert_events(stored)
    return max(positions, default=None) if positions else None
