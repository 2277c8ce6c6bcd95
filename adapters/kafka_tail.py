"""How a downstream system reads salesledger's topics: a consumer group, read_committed.

read_committed hides records of aborted relay transactions and shows each committed one once.
The group's offsets are committed after the records are handed on, so a consumer that crashes
in between sees those records again on restart: a downstream system that must not apply one
twice keeps the `event_id` header of what it applied (at-least-once into idempotent handling).
Several consumers in one group share the partitions; since records are keyed by aggregate
(ledger lines by rep), each aggregate's events reach one consumer, in order.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaConsumer


def record_document(record: Any) -> dict[str, Any]:
    """A consumed record as one JSON object: where it was, its key, headers and value."""
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": None if record.key is None else record.key.decode("utf-8"),
        "headers": {name: value.decode("utf-8") for name, value in record.headers or ()},
        "value": None if record.value is None else json.loads(record.value),
    }


def tail(
    bootstrap: str,
    topics: Sequence[str],
    group: str,
    emit: Callable[[dict[str, Any]], None],
    *,
    from_beginning: bool = False,
    max_records: int | None = None,
    idle_timeout_s: float | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Hands each committed record to `emit`, committing the group's offsets after it; returns
    how many were handed on. Stops after `max_records`, after `idle_timeout_s` without a record,
    or when `stop` is set."""
    stop = stop or threading.Event()
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        isolation_level="read_committed",
        enable_auto_commit=False,
        # Only for a group without committed offsets: a known group resumes where it left off.
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    count = 0
    last_record = time.monotonic()
    try:
        while not stop.is_set() and (max_records is None or count < max_records):
            remaining = None if max_records is None else max_records - count
            batch = consumer.poll(timeout_ms=500, max_records=remaining)
            if not batch:
                if idle_timeout_s is not None and time.monotonic() - last_record > idle_timeout_s:
                    break
                continue
            for records in batch.values():
                for record in records:
                    emit(record_document(record))
                    count += 1
            # The positions of every assigned partition, so the group resumes after what was handed
            # on; poll never hands out more than max_records, so nothing unread is committed.
            consumer.commit()
            last_record = time.monotonic()
    finally:
        consumer.close()
    return count
