"""What the relay publishes, batch by batch: the store read in order and turned into Kafka records.

`BatchBuilder` reads the notification log after a committed position, builds each event's record
and folds the pay events into an in-memory ledger (the same fold as the ledger projection, in the
same store order), adding a period's frozen lines right after its `PeriodClosed`. It starts from
scratch at that position: the ledger is folded from the pay events before it, so no state from an
uncommitted batch ever survives a restart.

The relay builds batches in a worker process (`BatchReader`, the default) or in its own process
between commits (`LocalReader`), as SALESLEDGER_KAFKA_READER says (process, local). Building
records and folding the ledger are pure Python, as is kafka-python's producer, so in one process
they take turns on the GIL, while a worker overlaps them on another core. The producer's thread
is the relay's busiest, so it is left nothing but sending: the worker hands it finished records
with their partitions, and is started while the producer connects. Measured on a shared two-core
machine (tests/benchmarks/relay.py, 100,000 commands, three runs each the median of three): 0.81
to 0.88 of a bare producer's throughput with the worker, 0.77 to 0.83 in one process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from eventsourcing.persistence import InterfaceError, Notification, OperationalError
from kafka.partitioner.default import murmur2

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
    # Each record's partition, or None to leave it to the producer's partitioner.
    partitions: list[int | None]
    events: int
    lines: int


# Partition counts per topic, as the producer's cluster metadata has them.
PartitionCounts = Mapping[str, int]


@lru_cache(maxsize=1 << 16)
def _key_hash(key: bytes) -> int:
    # Kafka's default partitioner for keyed records (kafka-python's, and the Java client's):
    # murmur2 of the key, made positive. Pure Python (5 µs a key) and keys recur, hence the cache.
    return int(murmur2(key)) & 0x7FFFFFFF


def key_partition(key: bytes, count: int) -> int:
    """The partition Kafka's default partitioner puts `key` in, of `count` partitions."""
    return _key_hash(key) % count


class BatchBuilder:
    """With `partitions`, every record comes with the partition the producer's default partitioner
    would give it, computed here so the producer (the relay's busiest thread) does not."""

    def __init__(
        self,
        store: EventStore,
        topics: TopicConfig,
        batch_size: int,
        start: int,
        partitions: PartitionCounts | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.store = store
        self.codec = EventCodec(topics, store.mapper)
        self.batch_size = batch_size
        self.position = start
        self.partitions = partitions
        self.ledger = fold_ledger(store, start)
        # The next batch's notifications, read while this one is built: the query's round trip
        # and the database's work overlap with building records (the driver waits without the GIL).
        self._reading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-read")
        self._ahead: tuple[int, int, Future[Sequence[Notification]]] | None = None

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def close(self) -> None:
        self._reading.shutdown(wait=True, cancel_futures=True)

    def _select(self, start: int, stop: int) -> Sequence[Notification]:
        return self.store.recorder.select_notifications(
            start=start,
            limit=self.batch_size,
            stop=stop,
            topics=self.codec.stored_topics,
            inclusive_of_start=False,
        )

    def next_batch(self, head: int) -> Batch:
        """The records of the events after the current position, up to batch_size events or head
        (or up to the head a batch read ahead was read against: a lower one, never a higher)."""
        store, codec = self.store, self.codec
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == self.position and ahead[1] <= head:
            head, notifications = ahead[1], ahead[2].result()
        else:
            notifications = self._select(self.position, head)
        # Receipts are not selected, so a short batch means everything up to head was read.
        full = len(notifications) == self.batch_size
        position = notifications[-1].id if full else head
        if full:
            self._ahead = (position, head, self._reading.submit(self._select, position, head))
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
        counts = self.partitions
        partitions: list[int | None] = (
            [None] * len(records)
            if counts is None
            else [key_partition(key, counts[topic]) for topic, key, _, _ in records]
        )
        lines = len(records) - len(notifications)
        return Batch(position, head, records, partitions, len(notifications), lines)


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
        poll_interval_s: float,
    ) -> None:
        self._store = store
        self._topics = topics
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._builder: BatchBuilder | None = None
        self._target: int | None = None
        self.done = False

    def start(self, position: int, target: int | None, partitions: PartitionCounts | None = None) -> None:
        self._builder = BatchBuilder(self._store, self._topics, self._batch_size, position, partitions)
        self._target = target

    def get(self, timeout_s: float) -> Batch | None:
        if self._builder is None:
            raise RuntimeError("LocalReader.get before start")
        head = self._builder.head() if self._target is None else self._target
        if self._builder.position < head:
            return self._builder.next_batch(head)
        if self._target is not None:
            self.done = True
        else:
            time.sleep(min(timeout_s, self._poll_interval_s))
        return None

    def close(self) -> None:
        # The store belongs to the caller; the builder's read-ahead thread does not.
        if self._builder is not None:
            self._builder.close()


@dataclass(frozen=True)
class _Failed:
    error: str
    # The store was unreachable: worth starting over; anything else would fail the same way again.
    transient: bool


class BatchReader:
    """Batches from a worker process, from the position given to `start` on: up to the target (then
    None), or following the store's head when the target is None. A failure in the worker is raised
    here as WorkerFailed.

    The worker is spawned at once and told where to start later: its start-up (a fresh interpreter
    importing the domain, a store connection: most of a second) overlaps with the producer
    connecting and reading back the committed position, instead of delaying the first batch."""

    def __init__(
        self,
        store_url: str,
        topics: TopicConfig,
        batch_size: int,
        poll_interval_s: float,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue: Any = context.Queue(maxsize=READ_AHEAD)
        start, self._start = context.Pipe(duplex=False)
        self._process: BaseProcess = context.Process(
            target=_work,
            args=(store_url, topics, batch_size, poll_interval_s, start, self._queue),
            name="salesledger-relay-reader",
            daemon=True,
        )
        self._process.start()
        # The worker has its own copy now.
        start.close()
        self._done = False

    def start(self, position: int, target: int | None, partitions: PartitionCounts | None = None) -> None:
        """Batches after `position`, up to `target` (None: following the head), with partitions
        for these partition counts (BatchBuilder)."""
        self._start.send((position, target, None if partitions is None else dict(partitions)))

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
        self._start.close()


class WorkerFailed(RuntimeError):
    """The worker stopped on something that may pass (the store briefly away, the worker killed)."""


class WorkerBroken(RuntimeError):
    """The worker stopped on something that retrying would only repeat."""


def _work(
    store_url: str,
    topics: TopicConfig,
    batch_size: int,
    poll_interval_s: float,
    start: Connection,
    out: Any,
) -> None:
    tune_gc_for_throughput()
    try:
        store = open_store(store_url)
    except Exception as error:
        _put(out, _Failed(f"{type(error).__name__}: {error}", _transient(error)))
        return
    try:
        position, target, partitions = _wait_for_start(start)
        batches = _batches(store, topics, batch_size, position, target, poll_interval_s, partitions)
        for item in batches:
            _put(out, item)
    except Exception as error:
        _put(out, _Failed(f"{type(error).__name__}: {error}", _transient(error)))
    finally:
        store.close()


def _wait_for_start(start: Connection) -> tuple[int, int | None, PartitionCounts | None]:
    try:
        position, target, partitions = start.recv()
    except EOFError:
        # The relay is gone (killed while it connected, say): it held the only other end.
        os._exit(0)
    return int(position), target, partitions


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
    partitions: PartitionCounts | None,
) -> Iterator[Batch | None]:
    builder = BatchBuilder(store, topics, batch_size, start, partitions)
    try:
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
    finally:
        builder.close()


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
