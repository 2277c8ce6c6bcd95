"""A client no one here wrote reads the topics: kcat (librdkafka) from Debian's packages.

It consumes every data topic with isolation.level=read_committed and each payload must validate
against the schema that deploy/schemas/ publishes for its `event_type` header. kcat is installed
by deploy/kcat.sh (make services); a missing kcat fails this test, it never skips it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from adapters.event_schemas import load_schemas
from adapters.kafka_relay import Relay, RelayConfig
from adapters.persistence import open_store
from tests.cli import salesledger
from tests.integration.kafka_support import (
    BOOTSTRAP,
    expected_records,
    fresh_topics,
    history_lines,
    require_broker,
    write_history,
)

pytestmark = pytest.mark.kafka
READ_COMMITTED = ("-X", "isolation.level=read_committed")


def kcat_records(kcat: str, topic: str) -> list[dict[str, Any]]:
    """Every committed record of the topic as kcat's JSON envelope (-J), read to the end (-e)."""
    result = subprocess.run(
        [kcat, "-C", "-b", BOOTSTRAP, "-t", topic, "-o", "beginning", "-e", "-J", "-q", *READ_COMMITTED],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def kcat_records_at_least(kcat: str, topic: str, count: int) -> list[dict[str, Any]]:
    """The topic's committed records, read again while fewer than `count` are visible: a commit
    returns once the transaction is decided, and the broker writes its commit markers to the
    partitions just after, so a read_committed reader right behind it may briefly stop short."""
    deadline = time.monotonic() + 30
    records = kcat_records(kcat, topic)
    while len(records) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        records = kcat_records(kcat, topic)
    return records


def test_kcat_reads_committed_records_that_validate_against_the_published_schemas(tmp_path: Path) -> None:
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.fail("kcat is not installed: run deploy/kcat.sh (Debian package kcat)")
    require_broker()
    database_url = f"sqlite:///{tmp_path / 'salesledger.db'}"
    history = write_history(tmp_path / "h.jsonl", history_lines(6, 40, 3, seed=21))
    assert salesledger(database_url, "import", str(history)).stdout
    topics = fresh_topics()
    validators = {name: Draft202012Validator(schema) for name, schema in load_schemas().items()}
    try:
        relay = Relay(
            database_url, RelayConfig(BOOTSTRAP, topics.transactional_id, topics.config, batch_size=200)
        )
        try:
            relay.run(once=True)
        finally:
            relay.close()
        store = open_store(database_url)
        try:
            expected = expected_records(store, topics.config)
        finally:
            store.close()

        types: Counter[str] = Counter()
        for topic in topics.config.data_topics():
            wanted = expected.events.get(topic, []) if topic != topics.config.ledger_lines else expected.lines
            records = kcat_records_at_least(kcat, topic, len(wanted))
            assert len(records) == len(wanted), topic
            for record in records:
                # kcat lists headers as a flat [name, value, name, value, …] array.
                pairs = record["headers"]
                headers = dict(zip(pairs[::2], pairs[1::2], strict=True))
                payload = json.loads(record["payload"])
                errors = sorted(validators[headers["event_type"]].iter_errors(payload), key=str)
                assert not errors, f"{headers['event_id']}: {errors[0].message}"
                types[headers["event_type"]] += 1
            got = sorted(json.loads(r["payload"]).get("originator_id", r["key"]) for r in records)
            assert got == sorted(key for key, *_ in wanted)
        assert types["LedgerLine"] > 0
        assert types["Deal.Opened"] == 40
    finally:
        topics.cleanup()
