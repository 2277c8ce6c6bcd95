"""The relay: publishes the event store to Kafka, exactly once for read_committed consumers.

It reads the store's notification log in order, a batch at a time, and publishes each batch in one
Kafka transaction together with its own position (on the compacted relay-positions topic, keyed by
the transactional id). A crash, a broker restart or a fenced producer leaves either the whole batch
and the position visible, or neither: on start the relay first initialises its transactional
producer, which fences any older instance and settles that instance's open transaction, and only
then reads the last committed position, so it resumes exactly after what was committed.

Ledger lines are published when they become final, at the close of their period, in the same
transaction as the `PeriodClosed` event (adapters/relay_batches.py builds the records, folding the
pay events into an in-memory ledger rebuilt up to the committed position at every start), so every
line reaches Kafka once.

With the broker down the relay waits and retries with backoff; commands never depend on Kafka,
they only append to the store, and the relay catches up when the broker is back. A relay fenced by
a newer one with the same transactional id stops (exit status 2): only one may publish.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import AuthorizationError, KafkaError, ProducerFencedError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_exponential_jitter,
)

from adapters.kafka_topics import TopicConfig, ensure_topics
from adapters.persistence import open_store
from adapters.relay_batches import Batch, BatchReader, LocalReader, WorkerBroken, WorkerFailed

log = structlog.get_logger("salesledger.relay")

# Reading back the committed position waits for open transactions below the high watermark.
POSITION_READ_TIMEOUT_S = 120


class RelayFatalError(RuntimeError):
    """Retrying cannot help: the relay stops and says why."""


@dataclass(frozen=True)
class RelayConfig:
    bootstrap: str
    transactional_id: str = "salesledger-relay"
    topics: TopicConfig = field(default_factory=TopicConfig)
    # Store events per Kafka transaction (receipts, which are not published, do not count).
    batch_size: int = 2000
    linger_ms: int = 5
    batch_bytes: int = 256 * 1024
    poll_interval_s: float = 0.5
    create_topics: bool = True
    max_backoff_s: float = 15.0
    # How long one attempt to reach the broker may take; attempts repeat with backoff.
    bootstrap_timeout_ms: int = 5000
    # Where batches are built: "process" (a worker process, overlapping with the producer on another
    # core) or "local" (in this process, between commits). The worker is started with "spawn", so a
    # script that runs the relay itself needs the usual `if __name__ == "__main__":` guard.
    reader: str = "process"

    def producer_settings(self) -> dict[str, Any]:
        """What the producer is tuned with; the benchmark's raw producer uses the very same."""
        return {
            "bootstrap_servers": self.bootstrap,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "acks": "all",
            "enable_idempotence": True,
            # Records accumulate into large batches and are confirmed by the broker batch by batch,
            # never record by record.
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_bytes,
        }


@dataclass
class RelayStats:
    """What this relay process committed, and when its latest producer session became ready."""

    events: int = 0
    lines: int = 0
    transactions: int = 0
    sessions: int = 0
    ready_at: float | None = None


@dataclass
class _Session:
    """One incarnation of the transactional producer, and what was committed when it started."""

    producer: Any
    position: int
    # Partitions per data topic when the session started: the worker computes each record's
    # partition from these counts (relay_batches.BatchBuilder).
    partitions: dict[str, int]


class PartitionsChanged(RuntimeError):
    """A topic gained partitions: a new session computes the records' partitions afresh."""


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ProducerFencedError | AuthorizationError | RelayFatalError | WorkerBroken):
        return False
    # Broker unreachable or restarting, a transaction aborted under us, the store briefly away.
    return isinstance(
        error, KafkaError | WorkerFailed | OperationalError | InterfaceError | OSError | PartitionsChanged
    )


class Relay:
    def __init__(
        self,
        store_url: str,
        config: RelayConfig,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if config.batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.store_url = store_url
        self.config = config
        self.on_progress = on_progress
        self.stop = threading.Event()
        self.stats = RelayStats()
        self.log = log.bind(relay=config.transactional_id, prefix=config.topics.prefix)
        self._key = config.transactional_id.encode()
        self._store = open_store(store_url)

    def close(self) -> None:
        self._store.close()

    def head(self) -> int:
        return self._store.recorder.max_notification_id() or 0

    # -- the loop ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> int:
        """Relays until stopped (or, with once, until the store's head when it started);
        returns the committed position."""
        target = self.head() if once else None
        position = 0
        while not self.stop.is_set():
            # Started first, so the worker gets ready while the producer connects.
            reader = self._reader()
            try:
                session = self._connect()
                if session is None:
                    break
                try:
                    position = self._pump(session, reader, target)
                    if target is not None and position >= target:
                        break
                except Exception as error:
                    if not _retryable(error):
                        raise
                    self.log.warning("relay.batch_failed", error=repr(error), position=session.position)
                    self.stop.wait(1.0)
                finally:
                    session.producer.close(timeout=5)
            finally:
                reader.close()
        return position

    def _reader(self) -> BatchReader | LocalReader:
        args = (self.config.topics, self.config.batch_size, self.config.poll_interval_s)
        if self.config.reader == "process":
            return BatchReader(self.store_url, *args)
        return LocalReader(self._store, *args)

    def _pump(self, session: _Session, reader: BatchReader | LocalReader, target: int | None) -> int:
        if target is not None and session.position >= target:
            return session.position
        reader.start(session.position, target, session.partitions)
        while not self.stop.is_set() and not reader.done:
            batch = reader.get(timeout_s=0.5)
            if batch is not None:
                self._commit(session, batch)
        return session.position

    def _commit(self, session: _Session, batch: Batch) -> None:
        """One Kafka transaction: every record of the batch, then the position it reaches."""
        producer = session.producer
        if self._partition_counts(producer) != session.partitions:
            raise PartitionsChanged(f"partition counts now {self._partition_counts(producer)}")
        send = producer.send
        producer.begin_transaction()
        futures = [
            send(topic, value=value, key=key, headers=headers, partition=partition)
            for (topic, key, value, headers), partition in zip(batch.records, batch.partitions, strict=True)
        ]
        futures.append(
            send(
                self.config.topics.positions,
                key=self._key,
                value=json.dumps({"position": batch.position}).encode(),
            )
        )
        producer.commit_transaction()
        for future in futures:
            if future.failed():
                raise future.exception
        session.position = batch.position
        self.stats.events += batch.events
        self.stats.lines += batch.lines
        self.stats.transactions += 1
        self.log.info(
            "relay.committed",
            position=batch.position,
            head=batch.head,
            events=batch.events,
            lines=batch.lines,
        )
        if self.on_progress is not None:
            self.on_progress(batch.position, batch.head)

    # -- starting (again) --------------------------------------------------------------------

    def _connect(self) -> _Session | None:
        """A fresh transactional producer and the committed position, retried with backoff while
        Kafka is away; None when stopped meanwhile."""
        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            wait=wait_exponential_jitter(multiplier=0.5, max=self.config.max_backoff_s),
            sleep=self._sleep,
            stop=lambda _: self.stop.is_set(),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            session: _Session = retrying(self._start_session)
        except Exception as error:
            if self.stop.is_set() and _retryable(error):
                return None
            raise
        return session

    def _sleep(self, seconds: float) -> None:
        # Backoff that ends early when the relay is asked to stop.
        self.stop.wait(seconds)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0
        self.log.warning("relay.kafka_unavailable", error=repr(error), retry_in_s=round(wait, 1))

    def _start_session(self) -> _Session:
        if self.config.create_topics:
            ensure_topics(self.config.bootstrap, self.config.topics, self.config.bootstrap_timeout_ms)
        producer = KafkaProducer(
            transactional_id=self.config.transactional_id, **self.config.producer_settings()
        )
        try:
            # Fences older instances and settles their open transaction before the position is read.
            producer.init_transactions()
            position = self.read_position()
            head = self.head()
            if position > head:
                raise RelayFatalError(
                    f"relay {self.config.transactional_id!r} committed position {position} on "
                    f"{self.config.topics.positions}, beyond this store's head {head}: these topics hold "
                    "another store's events (use another topic prefix or transactional id)"
                )
            # Topic metadata up front: the first send to each topic would otherwise wait for it.
            producer.partitions_for(self.config.topics.positions)
            partitions = self._partition_counts(producer)
        except BaseException:
            producer.close(timeout=2)
            raise
        self.stats.sessions += 1
        self.stats.ready_at = time.perf_counter()
        self.log.info("relay.started", position=position, head=head)
        return _Session(producer, position, partitions)

    def _partition_counts(self, producer: Any) -> dict[str, int]:
        return {topic: len(producer.partitions_for(topic)) for topic in self.config.topics.data_topics()}

    def read_position(self) -> int:
        """The last position this relay committed, as a read_committed consumer sees it."""
        partition = TopicPartition(self.config.topics.positions, 0)
        consumer = KafkaConsumer(
            bootstrap_servers=self.config.bootstrap,
            bootstrap_timeout_ms=self.config.bootstrap_timeout_ms,
            isolation_level="read_committed",
            enable_auto_commit=False,
        )
        try:
            consumer.assign([partition])
            consumer.seek_to_beginning(partition)
            position = 0
            target: int | None = None
            deadline = time.monotonic() + POSITION_READ_TIMEOUT_S
            while True:
                for record in consumer.poll(timeout_ms=500).get(partition, ()):
                    if record.key == self._key and record.value is not None:
                        position = int(json.loads(record.value)["position"])
                # Everything this relay committed lies below the first high watermark seen; a
                # read_committed consumer passes it once no transaction below it is still open.
                if target is None:
                    target = consumer.highwater(partition)
                if target is not None and consumer.position(partition) >= target:
                    return position
                if time.monotonic() > deadline:
                    raise KafkaError(f"timed out reading {self.config.topics.positions} up to {target}")
        finally:
            consumer.close()
