"""The relay's batches without a broker: read ahead or not, the same records in the same order, each
with the partition Kafka's default partitioner gives its key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.kafka_topics import TopicConfig
from adapters.relay_batches import Batch, BatchBuilder, key_partition
from commands.store import EventStore
from tests.builders import simulated_sqlite_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    store = simulated_sqlite_store(tmp_path_factory.mktemp("relay"), reps=5, deals=60, months=3, seed=3)
    yield store
    store.close()


def _all_batches(builder: BatchBuilder, head: int) -> list[Batch]:
    batches = []
    try:
        while builder.position < head:
            batches.append(builder.next_batch(head))
    finally:
        builder.close()
    return batches


@pytest.mark.parametrize(
    ("key", "partition"),
    # Kafka's Java client puts these keys in these of 1000 partitions (its murmur2 test vectors).
    [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)],
)
def test_key_partition_is_the_java_clients(key: bytes, partition: int) -> None:
    assert key_partition(key, 1000) == partition


def test_batches_read_ahead_hold_what_one_batch_holds_with_each_keys_partition(store: EventStore) -> None:
    topics = TopicConfig()
    head = store.recorder.max_notification_id() or 0
    whole = _all_batches(BatchBuilder(store, topics, batch_size=1_000_000, start=0), head)
    assert len(whole) == 1 and whole[0].position == head
    assert whole[0].partitions == [None] * len(whole[0].records)

    # Partition counts differ per topic, as a topic created by hand may.
    counts = {name: 1 + n % 4 for n, name in enumerate(topics.data_topics())}
    small = _all_batches(BatchBuilder(store, topics, batch_size=37, start=0, partitions=counts), head)
    assert len(small) > 5
    assert [b.position for b in small] == sorted({b.position for b in small})
    assert small[-1].position == head
    assert [r for b in small for r in b.records] == whole[0].records
    assert sum(b.events for b in small) == whole[0].events
    assert sum(b.lines for b in small) == whole[0].lines > 0
    for batch in small:
        assert batch.partitions == [key_partition(key, counts[topic]) for topic, key, _, _ in batch.records]
    assert {p for b in small for p in b.partitions} == set(range(4))

    # Started again from a position in the middle: the same records from there on.
    middle = small[len(small) // 2 - 1].position
    rest = _all_batches(BatchBuilder(store, topics, batch_size=50, start=middle, partitions=counts), head)
    assert [r for b in rest for r in b.records] == [r for b in small[len(small) // 2 :] for r in b.records]
