"""Shared by the Kafka relay tests: fresh topic prefixes, reading everything back with a
read_committed consumer group, and checking it against the store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from kafka import KafkaConsumer

from adapters.event_json import event_classes, event_type, line_value
from adapters.kafka_topics import AGGREGATE_TOPICS, TopicConfig, delete_topics
from adapters.relay_batches import key_partition
from adapters.simulation import simulate
from commands.store import EventStore
from domain.ids import event_id
from replay.recompute import fold

BOOTSTRAP = os.environ.get("SALESLEDGER_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "kafka.sh"
READ_TIMEOUT_S = 120


def require_broker() -> None:
    host, _, port = BOOTSTRAP.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        pytest.fail(f"Kafka broker not reachable at {BOOTSTRAP} (run deploy/kafka.sh): {exc}")


@dataclass
class Topics:
    config: TopicConfig
    transactional_id: str

    def cleanup(self) -> None:
        delete_topics(BOOTSTRAP, [*self.config.data_topics(), self.config.positions])


def fresh_topics(partitions: int = 3) -> Topics:
    """A prefix and relay id of its own, so tests never see each other's records."""
    tag = uuid.uuid4().hex[:12]
    return Topics(TopicConfig(prefix=f"t{tag}.", partitions=partitions), f"relay-{tag}")


def history_lines(reps: int, deals: int, months: int, seed: int) -> list[str]:
    return [json.dumps(command) for command in simulate(reps=reps, deals=deals, months=months, seed=seed)]


def write_history(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def relay_env(database_url: str, topics: Topics, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SALESLEDGER_DATABASE_URL": database_url,
        "SALESLEDGER_KAFKA_BOOTSTRAP": BOOTSTRAP,
        "SALESLEDGER_KAFKA_TOPIC_PREFIX": topics.config.prefix,
        "SALESLEDGER_KAFKA_TRANSACTIONAL_ID": topics.transactional_id,
        "SALESLEDGER_KAFKA_PARTITIONS": str(topics.config.partitions),
        "SALESLEDGER_LOG_LEVEL": "info",
        "SALESLEDGER_LOG_FORMAT": "json",
        **extra,
    }


def run_relay(database_url: str, topics: Topics, *args: str) -> subprocess.CompletedProcess[str]:
    """`salesledger relay ARGS` to completion, with the test's topics and relay id."""
    return subprocess.run(
        [sys.executable, "-m", "adapters", "relay", *args],
        env=relay_env(database_url, topics),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class RelayProcess:
    """`salesledger relay` running in its own process, its JSON log going to a file."""

    process: subprocess.Popen[bytes]
    log: Path

    def entries(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def commits(self) -> list[dict[str, Any]]:
        return [e for e in self.entries() if e.get("event") == "relay.committed"]

    def wait_until(self, done: Callable[[RelayProcess], bool], what: str, timeout_s: float = 240) -> None:
        deadline = time.monotonic() + timeout_s
        while not done(self):
            if self.process.poll() is not None:
                raise AssertionError(
                    f"relay exited ({self.process.returncode}) before {what}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout_s}s:\n{self.tail()}")
            time.sleep(0.05)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])

    def kill(self, sig: int) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=120)


def start_relay(
    database_url: str, topics: Topics, log: Path, *args: str, env: dict[str, str] | None = None
) -> RelayProcess:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "adapters", "relay", *args],
            env=relay_env(database_url, topics, **(env or {})),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    return RelayProcess(process, log)


@dataclass(frozen=True)
class Consumed:
    topic: str
    partition: int
    offset: int
    key: str
    headers: dict[str, str]
    value: dict[str, Any]


def consume_all(topics: TopicConfig, group: str | None = None) -> list[Consumed]:
    """Everything committed on the data topics, read by a read_committed consumer group from the
    start until every assigned partition is read to its end."""
    consumer = KafkaConsumer(
        *topics.data_topics(),
        bootstrap_servers=BOOTSTRAP,
        group_id=group or f"check-{uuid.uuid4().hex}",
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    found: list[Consumed] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    ends: dict[Any, int] | None = None
    try:
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found.extend(
                    Consumed(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key.decode(),
                        {k: v.decode() for k, v in r.headers},
                        json.loads(r.value),
                    )
                    for r in records
                )
            assigned = consumer.assignment()
            if ends is None and len(assigned) == len(topics.data_topics()) * topics.partitions:
                ends = consumer.end_offsets(list(assigned))
            if ends is not None and all(consumer.position(p) >= end for p, end in ends.items()):
                consumer.commit()
                return found
    finally:
        consumer.close()
    raise AssertionError(f"could not read {topics.prefix}* to the end within {READ_TIMEOUT_S}s")


@dataclass(frozen=True)
class Expected:
    # Per data topic: (key, event id) in store order; the event ids of ledger lines likewise.
    events: dict[str, list[tuple[str, str]]]
    lines: list[tuple[str, str, dict[str, Any]]]

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.events.values()) + len(self.lines)


def expected_records(store: EventStore, topics: TopicConfig) -> Expected:
    """What the relay must have published for this store: every event but the receipts, and
    every frozen ledger line."""
    short_of = {get_topic(cls): short for cls, short in event_classes().items()}
    events: dict[str, list[tuple[str, str]]] = defaultdict(list)
    recorder = store.recorder
    position, head = 0, recorder.max_notification_id() or 0
    while position < head:
        batch = recorder.select_notifications(start=position, limit=5000, inclusive_of_start=False)
        for n in batch:
            if n.topic in short_of:
                events[topics.name(short_of[n.topic])].append(
                    (str(n.originator_id), event_id(n.originator_id, n.originator_version))
                )
            else:
                assert n.topic == "domain.receipt:CommandReceipt.Handled", n.topic
        position = batch[-1].id
    ledger = fold(store)
    lines = [
        (line.rep_id, f"{closed.closed_by}#{number}", line_value(line))
        for period, closed in sorted(ledger.closed.items())
        for number, line in enumerate(ledger.frozen[period])
    ]
    return Expected(dict(events), lines)


def assert_exactly_once_in_order(consumed: list[Consumed], expected: Expected, topics: TopicConfig) -> None:
    counts = Counter(c.headers["event_id"] for c in consumed)
    duplicates = {i for i, n in counts.items() if n > 1}
    assert not duplicates, (
        f"{len(duplicates)} records published more than once, e.g. {sorted(duplicates)[:3]}"
    )
    # Per topic and key, in partition order, exactly the store's order for that aggregate (or rep).
    got: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in sorted(consumed, key=lambda c: (c.topic, c.partition, c.offset)):
        got[(c.topic, c.key)].append(c.headers["event_id"])
    want: dict[tuple[str, str], list[str]] = defaultdict(list)
    for topic, pairs in expected.events.items():
        for key, eid in pairs:
            want[(topic, key)].append(eid)
    for key, eid, _ in expected.lines:
        want[(topics.ledger_lines, key)].append(eid)
    missing = sum(len(v) for v in want.values()) - sum(len(got.get(k, [])) for k in want)
    assert set(got) == set(want), (
        f"keys differ: {len(set(want) - set(got))} missing, {len(set(got) - set(want))} extra"
    )
    wrong = [k for k in want if got[k] != want[k]]
    assert not wrong, (
        f"{len(wrong)} keys out of order or incomplete ({missing} records missing), e.g. {wrong[:2]}"
    )
    by_id = {c.headers["event_id"]: c for c in consumed}
    for _, eid, value in expected.lines:
        assert by_id[eid].value == value
    for c in consumed:
        if c.topic != topics.ledger_lines:
            assert c.value["originator_id"] == c.key
    # Where Kafka's default partitioner puts each key, though the relay names the partition itself.
    misplaced = [c for c in consumed if c.partition != key_partition(c.key.encode(), topics.partitions)]
    assert not misplaced, f"{len(misplaced)} records off their key's partition, e.g. {misplaced[:1]}"


def kafka_sh(command: str) -> None:
    subprocess.run([str(KAFKA_SH), command], check=True, timeout=180, capture_output=True, text=True)


def short_topics() -> list[str]:
    return [*AGGREGATE_TOPICS.values(), "ledger-lines"]


def type_names() -> set[str]:
    return {event_type(cls) for cls in event_classes()}
