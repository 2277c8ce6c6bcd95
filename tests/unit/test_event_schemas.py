"""The published JSON Schemas are up to date with the models, and what the relay publishes
validates against them (no broker needed: the records are built as the relay builds them)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from adapters.event_json import (
    EventCodec,
    document_from_event,
    document_from_state,
    event_classes,
    event_type,
    line_value,
    value_from_state,
)
from adapters.event_schemas import (
    DEFAULT_DIR,
    INDEX_FILE,
    LEDGER_LINE_FILE,
    all_schemas,
    load_schemas,
    render,
    stale_files,
)
from adapters.kafka_topics import AGGREGATE_TOPICS, TopicConfig
from adapters.persistence import open_store
from adapters.relay_batches import BatchBuilder
from commands.store import EventStore
from domain.customer import Customer
from domain.ids import event_id
from domain.receipt import CommandReceipt
from tests.builders import simulated_sqlite_store


@cache
def validators() -> dict[str, Draft202012Validator]:
    return {name: Draft202012Validator(schema) for name, schema in load_schemas().items()}


@pytest.fixture(scope="module")
def history_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = simulated_sqlite_store(tmp_path_factory.mktemp("schemas"), reps=8, deals=120, months=4, seed=13)
    yield store
    store.close()


def test_schema_files_are_generated_from_the_current_models() -> None:
    assert stale_files(DEFAULT_DIR) == [], "deploy/schemas is stale: run `salesledger schemas`"
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DEFAULT_DIR.glob("*.json")}
    assert on_disk == {name: render(doc) for name, doc in all_schemas().items()}


def test_every_published_event_type_has_a_valid_schema_and_receipts_have_none() -> None:
    schemas = load_schemas()
    published = {event_type(cls) for cls in event_classes()}
    assert set(schemas) == published | {"LedgerLine"}
    assert {short for short in event_classes().values()} == set(AGGREGATE_TOPICS.values())
    assert not any(issubclass(cls, CommandReceipt.Event) for cls in event_classes())
    for name, schema in schemas.items():
        validator_for(schema).check_schema(schema)
        assert schema["title"] == name
        assert schema["additionalProperties"] is False
    index = json.loads((DEFAULT_DIR / INDEX_FILE).read_text(encoding="utf-8"))
    assert index["types"]["LedgerLine"]["schema"] == LEDGER_LINE_FILE


def test_published_values_validate_and_match_the_domain_events(history_store: EventStore) -> None:
    codec = EventCodec(TopicConfig(), history_store.mapper)
    notifications = history_store.recorder.select_notifications(
        start=1, limit=1_000_000, topics=codec.stored_topics
    )
    seen: Counter[str] = Counter()
    for notification in notifications:
        topic, key, value, headers = codec.event_record(notification, codec.route(notification))
        names = dict(headers)
        document = json.loads(value)
        errors = list(validators()[names["event_type"].decode()].iter_errors(document))
        assert not errors, f"{names['event_type']!r}: {errors[0].message}"
        # The fast path (rewriting the stored text) says exactly what the domain event says.
        event = history_store.mapper.to_domain_event(notification)
        assert document == document_from_event(event)
        assert list(document) == list(document_from_event(event))
        assert key.decode() == document["originator_id"]
        assert names["event_id"].decode() == event_id(event.originator_id, event.originator_version)
        assert topic == f"salesledger.{AGGREGATE_TOPICS[_aggregate(event)]}"
        seen[names["event_type"].decode()] += 1
    # The simulated history reaches most event types, not just a few.
    assert len(seen) >= 20, seen


def _aggregate(event: Any) -> Any:
    for aggregate in AGGREGATE_TOPICS:
        if isinstance(event, aggregate.Event):
            return aggregate
    raise AssertionError(f"no aggregate publishes {type(event).__qualname__}")


def test_ledger_lines_validate_against_their_schema(history_store: EventStore) -> None:
    builder = BatchBuilder(history_store, TopicConfig(), batch_size=100_000, start=0)
    batch = builder.next_batch(builder.head())
    lines = [json.loads(value) for topic, _, value, _ in batch.records if topic == "salesledger.ledger-lines"]
    assert lines and len(lines) == batch.lines
    for line in lines:
        errors = list(validators()["LedgerLine"].iter_errors(line))
        assert not errors, errors[0].message
    kinds = {line["kind"] for line in lines}
    assert {"base"} <= kinds
    closed = builder.ledger.closed
    assert len(lines) == sum(len(builder.ledger.frozen[p]) for p in closed)
    assert lines[0] == line_value(builder.ledger.frozen[min(closed)][0])


def test_text_that_looks_like_stored_json_is_published_as_written(tmp_path: Path) -> None:
    """Quotes inside strings are escaped, so the rewrite never touches what people typed."""
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        customer = Customer("c-1", 'Acme {"_type_":"decimal_str","_data_":"1"}', "retail", "CN-E", _now())
        customer.log_complaint(',"originator_topic":"x" {"timestamp":"y"}', _now())
        for event in customer.collect_events():
            stored = store.mapper.to_stored_event(event)
            originator_id = str(stored.originator_id)
            value = value_from_state(originator_id, stored.originator_version, stored.state)
            assert json.loads(value) == document_from_event(event)
            assert json.loads(value) == document_from_state(
                originator_id, stored.originator_version, stored.state
            )
    finally:
        store.close()


def _now() -> datetime:
    return datetime(2026, 3, 1, 9, tzinfo=UTC)
