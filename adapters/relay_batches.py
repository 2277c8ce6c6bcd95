"""What the relay publishes, batch by batch: the store read in order and turned into Kafka records.

`BatchBuilder` reads the notification log after a committed position, builds each event's record
and folds the pay events into an in-memory ledger (the same fold as the ledger projection, in the
same store order), adding a period's frozen lines right after its `PeriodClosed`. It starts from
scratch at that position: the ledger is folded from the pay events before it, so no state from an
uncommitted batch ever survives a restart.

The relay builds batches in a worker process (`BatchReader`, the default) or in its own process
between commits (`LocalReader`), as SALESLEDGER_KAFKA_READER says (process, local). Building
records and folding the ledger are pure Python, as is kafka-python's producer, so in one process
they take turns on the GIL, while a worker overlaps them on another core (measured on a shared
two-core machine, median of six runs: 0.62 of a bare producer's throughput against 0.57 in one
process, best 0.75 against 0.46; tests/benchmarks/relay.py compares both).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.event_json import EventCodec, Record
from adapters.kafka_topics import TopicConfig
from adapters.persistence import open_store
from commands.store import EventStore
from domain.ids import event_id
from projections.ledger import PERIOD_CLOSED, Ledger
from replay.recompute import fold

# Batches built ahead of the producer: enough to overlap, little enough to bound memory.
READ_AHEAD = 2


def tune_gc_for_throughput() -> None:
    """The relay allocates a few short-lived containers per record (the record, its headers, the
    producer's future and batch entries). With CPython's default threshold, a young collection
    every 700 allocations, collecting cost as much as building the records (measured: 7.6 against
    3.7 µs a record); one every 10,000 takes that away, and memory stays bounded by the batch."""
    gc.set_threshold(10_000, 10, 10)


@dataclass(frozen=True)
class Batch:
    # The store position the batch covers up to (inclusive), and the head it was read against.
    position: int
    head: int
    records: list[Record]
    events: int
    lines: int


class BatchBuilder:
    def __init__(self, store: EventStore, topics: TopicConfig, batch_size: int, start: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.store = store
        self.codec = EventCodec(topics, store.mapper)
        self.batch_size = batch_size
        self.position = start
        self.ledger = fold_ledger(store, start)

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def next_batch(self, head: int) -> Batch:
        """The records of the events after the current position, up to batch_size events or head."""
        store, codec = self.store, self.codec
        notifications = store.recorder.select_notifications(
            start=self.position,
            limit=self.batch_size,
            stop=head,
            topics=codec.stored_topics,
            inclusive_of_start=False,
        )
        # Receipts are not selected, so a short batch means everything up to head was read.
        full = len(notifications) == self.batch_size
        position = notifications[-1].id if full else head
        records: list[Record] = []
        for notification in notifications:
            route = codec.route(notification)
            records.append(codec.event_record(notification, route))
            if route.pay:
                event: Any = store.mapper.to_domain_event(notification)
                self.ledger.apply(event)
                if notification.topic == PERIOD_CLOSED:
                    closed_by = event_id(event.originator_id, event.originator_version)
                    frozen = self.ledger.frozen[event.period]
                    records.extend(codec.line_records(frozen, closed_by, notification.id))
        self.position = position
        return Batch(position, head, records, len(notifications), len(records) - len(notifications))


def fold_ledger(store: EventStore, position: int) -> Ledger:
    """The ledger as of `position`: every pay event up to it, folded in store order."""
    return fold(store, stop=position)


class LocalReader:
    """Batches built in this process, on demand: the same contract as BatchReader."""

    def __init__(
        self,
        store: EventStore,
        topics: TopicConfig,
        batch_size: int,
        start: int,
        target: int | None,
        poll_interval_s: float,
    ) -> None:
        self._builder = BatchBuilder(store, topics, batch_size, start)
        self._target = target
        self._poll_interval_s = poll_interval_s
        self.done = False

    def get(self, timeout_s: float) -> Batch | None:
        head = self._builder.head() if self._target is None else self._target
        if self._builder.position < head:
            return self._builder.next_batch(head)
        if self._target is not None:
            self.done = True
        else:
            time.sleep(min(timeout_s, self._poll_interval_s))
        return None

    def close(self) -> None:
        """Nothing to release: the store belongs to the caller."""


@dataclass(frozen=True)
class _Failed:
    error: str
    # The store was unreachable: worth starting over; anything else would fail the same way again.
    transient: bool


class BatchReader:
    """Batches from a worker process, from `start` on: up to `target` (then None), or following the
    store's head when target is None. A failure in the worker is raised here as WorkerFailed."""

    def __init__(
        self,
        store_url: str,
        topics: TopicConfig,
        batch_size: int,
        start: int,
        target: int | None,
        poll_interval_s: float,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue: Any = context.Queue(maxsize=READ_AHEAD)
        self._process: BaseProcess = context.Process(
            target=_work,
            args=(store_url, topics, batch_size, start, target, poll_interval_s, self._queue),
            name="salesledger-relay-reader",
            daemon=True,
        )
        self._process.start()
        self._done = False

    def get(self, timeout_s: float) -> Batch | None:
        """The next batch, or None when none came within the timeout or the target was reached
        (then `done` is true)."""
        if self._done:
            return None
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            if not self._process.is_alive():
                raise WorkerFailed(f"relay reader exited with code {self._process.exitcode}") from None
            return None
        if isinstance(item, _Failed):
            raise (WorkerFailed if item.transient else WorkerBroken)(item.error)
        if item is None:
            self._done = True
        return item  # type: ignore[no-any-return]

    @property
    def done(self) -> bool:
        return self._done

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._queue.close()
        self._queue.cancel_join_thread()


class WorkerFailed(RuntimeError):
    """The worker stopped on something that may pass (the store briefly away, the worker killed)."""


class WorkerBroken(RuntimeError):
    """The worker stopped on something that retrying would only repeat."""


def _work(
    store_url: str,
    topics: TopicConfig,
    batch_size: int,
    start: int,
    target: int | None,
    poll_interval_s: float,
    out: Any,
) -> None:
    tune_gc_for_throughput()
    store = open_store(store_url)
    try:
        for item in _batches(store, topics, batch_size, start, target, poll_interval_s):
            _put(out, item)
    except Exception as error:
        _put(out, _Failed(f"{type(error).__name__}: {error}", _transient(error)))
    finally:
        store.close()


def _transient(error: Exception) -> bool:
    # The store was unreachable: worth starting over; anything else would fail the same way again.
    return isinstance(error, OperationalError | InterfaceError | OSError)


def _batches(
    store: EventStore,
    topics: TopicConfig,
    batch_size: int,
    start: int,
    target: int | None,
    poll_interval_s: float,
) -> Iterator[Batch | None]:
    builder = BatchBuilder(store, topics, batch_size, start)
    while True:
        head = builder.head() if target is None else target
        if builder.position < head:
            yield builder.next_batch(head)
        elif target is not None:
            yield None
            return
        else:
            _exit_if_orphaned()
            time.sleep(poll_interval_s)


def _put(out: Any, item: object) -> None:
    # The relay may have been killed outright: a worker whose parent is gone stops.
    while True:
        try:
            out.put(item, timeout=1.0)
            return
        except queue.Full:
            _exit_if_orphaned()


def _exit_if_orphaned() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():
        # At once: the queue's pipe is full and nobody will read it, so no orderly exit could end.
        os._exit(0)
