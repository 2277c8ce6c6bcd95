"""Relay throughput next to a raw kafka-python producer sending the same records in the same run.

    make bench            (or: python -m tests.benchmarks.relay --commands 100000)

A simulated history is imported into a scratch PostgreSQL schema (or --db sqlite), then, on fresh
topics each time:
- relay: `Relay.run(once=True)` from position 0 to the head, timed from the producer being ready
  (transactions initialised, position read back, topic metadata fetched) to the last commit;
  with batches built between commits (local) and in a worker process (process), whose start-up
  overlaps with the producer connecting and so counts in relay_startup_s;
- raw: the records the relay published (read back from Kafka with read_committed, so exactly what
  it sent: topic, key, value, headers) sent again by a bare KafkaProducer with the relay's own
  producer settings (acks=all, idempotence, linger, batch size), transactional, one transaction
  per as many records as the relay put in each, timed from the same point (transactions
  initialised, topic metadata fetched); and, for context, without transactions (flush per batch).
Runs are interleaved and each figure is the median of --repeat runs: the machine is shared. The
whole benchmark runs under the relay process's GC setting (tune_gc_for_throughput), raw included.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer

from adapters.bootstrap import system_clock
from adapters.kafka_relay import Relay, RelayConfig
from adapters.kafka_topics import TopicConfig, delete_topics, ensure_topics
from adapters.logging import configure_logging
from adapters.persistence import open_store
from adapters.relay_batches import tune_gc_for_throughput
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_json_line

SERVER = os.environ.get(
    "SALESLEDGER_TEST_POSTGRES_URL", "postgresql://salesledger:salesledger@127.0.0.1:5432/salesledger"
)
BOOTSTRAP = os.environ.get("SALESLEDGER_KAFKA_BOOTSTRAP", "127.0.0.1:9092")

Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]


@contextmanager
def scratch_store(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
    try:
        yield f"{SERVER}?schema={schema}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"drop schema {schema} cascade")


def import_history(url: str, commands: int, seed: int) -> None:
    deals = max(1, commands * 10 // 175)
    store = open_store(url)
    executor = Executor(store, Context(clock=system_clock))

    def parsed() -> Iterator[Any]:
        for data in itertools.islice(simulate(reps=100, deals=deals, months=12, seed=seed), commands):
            try:
                yield parse_json_line(json.dumps(data))
            except InvalidCommand as invalid:
                yield invalid

    for _ in executor.execute_many(parsed(), 500):
        pass
    store.close()


def read_back(topics: TopicConfig) -> list[Record]:
    """Every record the relay committed, in store order (lines right after their closing event)."""
    consumer = KafkaConsumer(
        *topics.data_topics(),
        bootstrap_servers=BOOTSTRAP,
        group_id=f"bench-{uuid.uuid4().hex}",
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    found: list[tuple[tuple[int, int], Record]] = []
    idle_since = time.monotonic()
    try:
        while time.monotonic() - idle_since < 5:
            batch = consumer.poll(timeout_ms=500)
            for records in batch.values():
                idle_since = time.monotonic()
                for r in records:
                    headers = dict(r.headers)
                    line = headers["event_id"].split(b"#")
                    order = (int(headers["store_position"]), int(line[1]) + 1 if len(line) > 1 else 0)
                    found.append((order, (r.topic, r.key, r.value, list(r.headers))))
    finally:
        consumer.close()
    found.sort(key=lambda item: item[0])
    return [record for _, record in found]


def raw_send(config: RelayConfig, records: list[Record], per_transaction: int, transactional: bool) -> float:
    """Seconds to send `records` (to the same topic names under another prefix) as the relay does."""
    target = TopicConfig(prefix=f"raw{uuid.uuid4().hex[:8]}.", partitions=config.topics.partitions)
    ensure_topics(BOOTSTRAP, target)
    renamed = [(target.name(topic.removeprefix(config.topics.prefix)), *rest) for topic, *rest in records]
    settings = config.producer_settings()
    if transactional:
        settings["transactional_id"] = f"raw-{uuid.uuid4().hex}"
    producer = KafkaProducer(**settings)
    try:
        if transactional:
            producer.init_transactions()
        for topic in target.data_topics():
            producer.partitions_for(topic)
        started = time.perf_counter()
        for start in range(0, len(renamed), per_transaction):
            if transactional:
                producer.begin_transaction()
            for topic, key, value, headers in renamed[start : start + per_transaction]:
                producer.send(topic, value=value, key=key, headers=headers)
            if transactional:
                producer.commit_transaction()
            else:
                producer.flush()
        elapsed = time.perf_counter() - started
    finally:
        producer.close()
        delete_topics(BOOTSTRAP, [*target.data_topics(), target.positions])
    return elapsed


def relay_once(url: str, args: argparse.Namespace, reader: str) -> tuple[float, float, Any, RelayConfig]:
    """One relay run from position 0 to the head on fresh topics: (seconds from the producer being
    ready to the last commit, start-up seconds, stats, config)."""
    topics = TopicConfig(prefix=f"bench{uuid.uuid4().hex[:8]}.")
    config = RelayConfig(
        bootstrap=BOOTSTRAP,
        transactional_id=f"bench-{uuid.uuid4().hex}",
        topics=topics,
        batch_size=args.batch_size,
        linger_ms=args.linger_ms,
        batch_bytes=args.batch_bytes,
        reader=reader,
    )
    ensure_topics(BOOTSTRAP, topics)
    relay = Relay(url, config)
    try:
        started = time.perf_counter()
        relay.run(once=True)
        finished = time.perf_counter()
    finally:
        relay.close()
    stats = relay.stats
    assert stats.ready_at is not None and stats.sessions == 1
    # From the producer being ready (transactions initialised, position read, topic metadata
    # fetched) to the last commit; the raw producer is timed from the same point.
    return finished - stats.ready_at, stats.ready_at - started, stats, config


def bench(args: argparse.Namespace) -> dict[str, Any]:
    samples: dict[str, list[float]] = {
        "relay": [],
        "relay_process": [],
        "raw_tx": [],
        "raw_plain": [],
    }
    with scratch_store(args.db) as url:
        started = time.perf_counter()
        import_history(url, args.commands, args.seed)
        import_seconds = time.perf_counter() - started
        seconds, startup, stats, config = relay_once(url, args, "local")
        records = read_back(config.topics)
        delete_topics(BOOTSTRAP, [*config.topics.data_topics(), config.topics.positions])
        assert len(records) == stats.events + stats.lines, (len(records), stats)
        per_transaction = max(1, round(len(records) / stats.transactions))
        samples["relay"].append(seconds)
        # The machine is shared: each figure is the median of runs interleaved with the others'.
        for repeat in range(args.repeat):
            if repeat:
                samples["relay"].append(_relay_seconds(url, args, "local"))
            samples["relay_process"].append(_relay_seconds(url, args, "process"))
            samples["raw_tx"].append(raw_send(config, records, per_transaction, transactional=True))
            samples["raw_plain"].append(raw_send(config, records, per_transaction, transactional=False))
    rate = {name: len(records) / statistics.median(values) for name, values in samples.items()}
    return {
        "store": args.db,
        "batch_size": args.batch_size,
        "linger_ms": args.linger_ms,
        "batch_bytes": args.batch_bytes,
        "commands": args.commands,
        "published_records": len(records),
        "transactions": stats.transactions,
        "import_s": round(import_seconds, 1),
        "relay_startup_s": round(startup, 2),
        **{f"{name}_per_s": round(value) for name, value in rate.items()},
        "ratio_relay_vs_raw_tx": round(rate["relay"] / rate["raw_tx"], 3),
        "ratio_relay_process_vs_raw_tx": round(rate["relay_process"] / rate["raw_tx"], 3),
        "samples_s": {name: [round(v, 2) for v in values] for name, values in samples.items()},
    }


def _relay_seconds(url: str, args: argparse.Namespace, reader: str) -> float:
    seconds, _, _, config = relay_once(url, args, reader)
    delete_topics(BOOTSTRAP, [*config.topics.data_topics(), config.topics.positions])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=100_000, help="size of the imported history")
    parser.add_argument("--batch-size", type=int, default=2000, help="events per transaction")
    parser.add_argument("--linger-ms", type=int, default=RelayConfig.linger_ms)
    parser.add_argument("--batch-bytes", type=int, default=RelayConfig.batch_bytes)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each; medians reported")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    configure_logging("warning")
    # The relay process's GC setting, for the whole benchmark: the raw producer runs under it too.
    tune_gc_for_throughput()
    results = bench(args)
    if args.format == "json":
        print(json.dumps(results, indent=1))
        return
    samples = results.pop("samples_s")
    print("relay", "  ".join(f"{key}={value}" for key, value in results.items()))
    print("relay samples_s", "  ".join(f"{key}={value}" for key, value in samples.items()))


if __name__ == "__main__":
    main()
