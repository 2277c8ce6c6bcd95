"""The relay against the real broker: every event once, in order per key, whatever fails.

Each test has its own topic prefix and relay id. A read_committed consumer group reads every data
topic to its end and the records are checked against the store: each non-receipt event exactly
once, on its aggregate's topic, in store order per key; each frozen ledger line once, in order per
rep. Fails (never skips) when the broker is down: run deploy/kafka.sh first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.kafka_relay import PartitionsChanged, Relay, RelayConfig
from adapters.kafka_topics import TopicConfig, ensure_topics
from adapters.persistence import open_store
from adapters.relay_batches import LocalReader
from tests.cli import salesledger
from tests.integration.kafka_support import (
    BOOTSTRAP,
    Consumed,
    RelayProcess,
    assert_exactly_once_in_order,
    consume_all,
    expected_records,
    fresh_topics,
    history_lines,
    kafka_sh,
    relay_env,
    require_broker,
    run_relay,
    start_relay,
    type_names,
    write_history,
)

pytestmark = pytest.mark.kafka


def _import(database_url: str, path: Path) -> dict[str, object]:
    result = salesledger(database_url, "import", str(path), "--format", "json")
    report: dict[str, object] = json.loads(result.stdout)
    # Simulated histories hold a few moves that gates refuse on purpose (recorded as facts).
    rejected = report["rejected"]
    assert isinstance(rejected, list)
    assert all("cannot enter" in str(r["error"]) for r in rejected), rejected[:3]
    assert isinstance(report["accepted"], int) and report["accepted"] > 0
    return report


def _head(database_url: str) -> int:
    store = open_store(database_url)
    try:
        return store.recorder.max_notification_id() or 0
    finally:
        store.close()


def _check(database_url: str, topics: TopicConfig) -> list[Consumed]:
    store = open_store(database_url)
    try:
        expected = expected_records(store, topics)
    finally:
        store.close()
    consumed = consume_all(topics)
    assert_exactly_once_in_order(consumed, expected, topics)
    assert len(consumed) == expected.count
    return consumed


def test_relay_publishes_every_event_once_and_tail_reads_them_as_a_group(
    database_url: str, tmp_path: Path
) -> None:
    require_broker()
    topics = fresh_topics()
    try:
        _import(database_url, write_history(tmp_path / "h.jsonl", history_lines(6, 40, 3, seed=11)))
        config = RelayConfig(BOOTSTRAP, topics.transactional_id, topics.config, batch_size=150)
        relay = Relay(database_url, config)
        try:
            assert relay.run(once=True) == relay.head()
            assert relay.stats.transactions > 3
            assert relay.stats.lines > 0
        finally:
            relay.close()
        # Started again, it finds its position on Kafka and publishes nothing twice.
        again = Relay(database_url, config)
        try:
            assert again.run(once=True) == again.head()
            assert again.stats.transactions == 0
        finally:
            again.close()
        consumed = _check(database_url, topics.config)
        assert {c.headers["event_type"] for c in consumed} <= type_names() | {"LedgerLine"}

        # The consumer example: a group stopped after 25 records resumes right after them
        # (--from-beginning only says where a group with no committed offset starts).
        env = relay_env(database_url, topics)
        tail = [sys.executable, "-m", "adapters", "tail", "deal", "ledger-lines", "--group", "downstream"]
        first = subprocess.run(
            [*tail, "--format", "json", "--from-beginning", "--max", "25"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        rest = subprocess.run(
            [*tail, "--format", "json", "--from-beginning", "--idle-timeout", "5"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        assert len(first.stdout.splitlines()) == 25
        read = [json.loads(line) for line in (first.stdout + rest.stdout).splitlines()]
        wanted = {topics.config.name("deal"), topics.config.ledger_lines}
        assert sorted(r["headers"]["event_id"] for r in read) == sorted(
            c.headers["event_id"] for c in consumed if c.topic in wanted
        )
    finally:
        topics.cleanup()


@pytest.mark.postgres
def test_relay_killed_mid_run_and_restarted_loses_and_duplicates_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    require_broker()
    topics = fresh_topics()
    try:
        _import(postgres_url, write_history(tmp_path / "h.jsonl", history_lines(20, 500, 4, seed=5)))
        head = _head(postgres_url)
        log = tmp_path / "relay.log"
        killed_at = []
        # SIGKILL: no chance to finish or abort the transaction in hand; three times, further on,
        # building batches in a worker process (which must not outlive the relay) or in the relay.
        for more, reader in ((2, "process"), (4, "local"), (6, "process")):
            env = {"SALESLEDGER_KAFKA_READER": reader}
            relay = start_relay(postgres_url, topics, log, "--batch-size", "150", env=env)
            before = len(relay.commits())
            relay.wait_until(lambda r, n=before + more: len(r.commits()) >= n, f"{more} commits")
            relay.kill(signal.SIGKILL)
            killed_at.append(relay.commits()[-1]["position"])
        assert killed_at == sorted(killed_at) and killed_at[-1] < head
        finished = run_relay(postgres_url, topics, "--once", "--batch-size", "150", "--format", "json")
        assert finished.returncode == 0, finished.stderr
        assert json.loads(finished.stdout)["position"] == head
        _check(postgres_url, topics.config)
    finally:
        topics.cleanup()


@pytest.mark.postgres
def test_broker_stopped_mid_run_commands_still_accepted_and_relay_catches_up(
    postgres_url: str, tmp_path: Path
) -> None:
    """The broker goes away in the middle of a relay transaction; commands go on; the relay is
    killed while the broker is down and a new one started, which waits, retrying, until the
    broker is back, then finishes the job: nothing lost, nothing twice."""
    require_broker()
    topics = fresh_topics()
    lines = history_lines(12, 300, 4, seed=9)
    split = len(lines) * 2 // 3
    log = tmp_path / "relay.log"
    relays: list[RelayProcess] = []
    try:
        _import(postgres_url, write_history(tmp_path / "first.jsonl", lines[:split]))
        first_head = _head(postgres_url)
        relays.append(start_relay(postgres_url, topics, log, "--batch-size", "25"))
        relays[0].wait_until(lambda r: len(r.commits()) >= 2, "2 commits")
        kafka_sh("stop")
        assert relays[0].commits()[-1]["position"] < first_head, "the relay was not mid-run"
        _import(postgres_url, write_history(tmp_path / "second.jsonl", lines[split:]))
        head = _head(postgres_url)
        relays[0].kill(signal.SIGKILL)
        relays.append(start_relay(postgres_url, topics, log, "--batch-size", "25"))
        relays[1].wait_until(
            lambda r: any(e.get("event") == "relay.kafka_unavailable" for e in r.entries()), "a retry"
        )
        kafka_sh("start")
        relays[1].wait_until(
            lambda r: any(c["position"] == head for c in r.commits()), "catching up with the store", 300
        )
        assert relays[1].kill(signal.SIGTERM) == 0, relays[1].tail()
        _check(postgres_url, topics.config)
    finally:
        for relay in relays:
            relay.kill(signal.SIGKILL)
        # Whatever happened, the broker is left running for the tests after this one.
        kafka_sh("start")
        topics.cleanup()


def test_records_go_to_their_keys_partition_of_the_topic_as_it_is(database_url: str, tmp_path: Path) -> None:
    """The relay names each record's partition itself, from the partition counts the broker reports
    when its session starts (not from its own setting); a batch built for other counts is not sent."""
    require_broker()
    topics = fresh_topics(partitions=3)
    # Created beforehand with 2 partitions each: the relay leaves existing topics as they are.
    existing = replace(topics.config, partitions=2)
    try:
        _import(database_url, write_history(tmp_path / "h.jsonl", history_lines(4, 30, 2, seed=17)))
        ensure_topics(BOOTSTRAP, existing)
        config = RelayConfig(BOOTSTRAP, topics.transactional_id, topics.config, batch_size=100)
        relay = Relay(database_url, config)
        try:
            session = relay._start_session()
            try:
                assert set(session.partitions.values()) == {2}
                # As if the topics had gained a partition since the session started.
                stale = {topic: 3 for topic in session.partitions}
                store = open_store(database_url)
                try:
                    reader = LocalReader(store, topics.config, 100, 0.1)
                    reader.start(session.position, relay.head(), stale)
                    batch = reader.get(timeout_s=1.0)
                    reader.close()
                finally:
                    store.close()
                assert batch is not None
                session.partitions = stale
                with pytest.raises(PartitionsChanged):
                    relay._commit(session, batch)
            finally:
                session.producer.close(timeout=5)
            assert relay.stats.transactions == 0
            assert relay.run(once=True) == relay.head()
        finally:
            relay.close()
        _check(database_url, existing)
    finally:
        topics.cleanup()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            # A zombie is gone: only its exit status waits for a parent that may never reap it.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.postgres
def test_a_relay_killed_while_connecting_leaves_no_worker_behind(postgres_url: str, tmp_path: Path) -> None:
    """The worker is started before the producer connects and waits to be told where to start;
    a relay killed meanwhile takes it along."""
    topics = fresh_topics()
    log = tmp_path / "relay.log"
    # Nothing listens on the discard port: the relay retries while its worker waits.
    relay = start_relay(postgres_url, topics, log, env={"SALESLEDGER_KAFKA_BOOTSTRAP": "127.0.0.1:9"})
    try:
        relay.wait_until(
            lambda r: any(e.get("event") == "relay.kafka_unavailable" for e in r.entries()), "a retry"
        )
        pid = relay.process.pid
        with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as children:
            workers = [int(child) for child in children.read().split()]
        assert workers, "no worker process was started"
    finally:
        relay.kill(signal.SIGKILL)
    deadline = time.monotonic() + 15
    while any(_alive(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [worker for worker in workers if _alive(worker)]
    for worker in left:
        os.kill(worker, signal.SIGKILL)
    assert not left, f"worker processes {left} outlived the relay"
