"""The local Kafka broker from deploy/kafka.sh supports what the app relies on.

Transactions must work (the outbox relay publishes with a transactional producer) and
read_committed consumers must not see aborted records. Fails (never skips) when the broker
is down: run deploy/kafka.sh first.
"""

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

BOOTSTRAP = os.environ.get("SALESLEDGER_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
READ_TIMEOUT_S = 30

pytestmark = pytest.mark.kafka


def _require_broker() -> None:
    host, _, port = BOOTSTRAP.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        pytest.fail(f"Kafka broker not reachable at {BOOTSTRAP} (run deploy/kafka.sh): {exc}")


@contextmanager
def _admin() -> Iterator[KafkaAdminClient]:
    # Checked inside the test, not in a fixture, so a missing broker reports FAILED, not ERROR.
    _require_broker()
    client = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=10_000)
    try:
        yield client
    finally:
        client.close()


@contextmanager
def _fresh_topic() -> Iterator[str]:
    # Unique per run so reruns and parallel runs never read each other's records.
    name = f"salesledger-probe-{uuid.uuid4().hex}"
    with _admin() as admin:
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
        try:
            yield name
        finally:
            admin.delete_topics([name])


def test_broker_lists_topics() -> None:
    with _admin() as admin:
        assert isinstance(admin.list_topics(), list)


def test_transactional_producer_and_read_committed_consumer() -> None:
    with _fresh_topic() as topic:
        _round_trip(topic)


def _round_trip(topic: str) -> None:
    producer = KafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        transactional_id=f"probe-{uuid.uuid4().hex}",
        enable_idempotence=True,
    )
    try:
        producer.init_transactions()
        producer.begin_transaction()
        producer.send(topic, b"aborted")
        producer.abort_transaction()
        producer.begin_transaction()
        producer.send(topic, key=b"k", value=b"committed")
        producer.commit_transaction()
    finally:
        producer.close()

    consumer = KafkaConsumer(
        bootstrap_servers=BOOTSTRAP,
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    partition = TopicPartition(topic, 0)
    try:
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        values: list[bytes] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while b"committed" not in values and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(record.value for record in records)
    finally:
        consumer.close()

    assert values == [b"committed"]
