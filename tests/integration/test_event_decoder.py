"""The folds' decoder on both stores: every event of a simulated history, read as the folds read it
(`read_ahead.read_batch`: text ids on PostgreSQL) and as the library reads it (UUIDs), decodes to what
the store's mapper makes, without the mapper; and an event only the mapper reads — or that nothing
reads — is folded, or parked with the mapper's own error, by a lone runner and by a group alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.event_decoder import EventDecoder
from adapters.projection_group import ProjectionGroup
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_ahead import read_batch
from commands.executor import Executor
from commands.store import EventStore
from tests.builders import given as history_of
from tests.builders import org, token
from tests.integration.test_projection_group import _simulated
from tests.integration.test_projection_runner import FussyCounter
from tests.property.test_event_decoder_properties import assert_decodes_as_the_mapper, counted

NPS_RECORDED = "domain.customer:Customer.NpsRecorded"


def test_every_stored_event_decodes_as_the_mapper_decodes_it(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    decoder = EventDecoder(store.mapper)
    fallback = counted(decoder)
    rows = read_batch(store, 0, head, head, ())
    notifications = store.recorder.select_notifications(start=1, limit=head)
    assert len(rows) == len(notifications) == head
    assert len({row.topic for row in rows}) > 10
    for row, notification in zip(rows, notifications, strict=True):
        assert_decodes_as_the_mapper(decoder, store.mapper, row)
        assert_decodes_as_the_mapper(decoder, store.mapper, notification)
    assert fallback.calls == 0, "an ordinary history is decoded without the mapper"


def _nps(store: EventStore, executor: Executor) -> str:
    """A customer with an NPS score of 9, then one stored as only the mapper reads it (an integer beyond
    64 bits) and one stored as nothing reads it (a decimal that is not a number)."""
    t = token()
    nine = {
        "type": "RecordNps",
        "customer_id": f"c-{t}",
        "score": 9,
        "occurred_at": "2026-01-05T09:00:00+08:00",
    }
    history_of(executor, *org(t), nine)
    [recorded] = store.recorder.select_notifications(start=1, limit=10_000, topics=[NPS_RECORDED])
    encode = store.mapper.transcoder.encode
    head = b'{"timestamp":%s,"score":' % encode(datetime(2026, 1, 6, tzinfo=UTC))
    tail = b',"occurred_at":%s}' % encode(datetime(2026, 1, 6, 9, tzinfo=UTC))
    scores = [b"%d" % 2**70, b'{"_type_":"decimal_str","_data_":"abc"}']
    version = recorded.originator_version
    store.recorder.insert_events(
        [
            StoredEvent(recorded.originator_id, version + n, NPS_RECORDED, head + score + tail)
            for n, score in enumerate(scores, start=1)
        ]
    )
    return str(recorded.originator_id)


@pytest.mark.parametrize("grouped", [False, True], ids=["alone", "grouped"])
def test_what_only_the_mapper_reads_is_folded_and_what_nothing_reads_is_parked_with_its_error(
    store: EventStore, executor: Executor, grouped: bool
) -> None:
    customer = _nps(store, executor)
    view = open_doc_view(store)
    runner = ProjectionRunner(store, view, FussyCounter, 2)
    runner.reset()
    if grouped:
        ProjectionGroup(store, [runner], 2).catch_up()
    else:
        runner.catch_up()
    assert runner.position == runner.head()
    assert runner.model.counts == {customer: 2}, "the score beyond 64 bits was decoded and counted"
    [parked] = runner.status()["parked"]
    assert parked["attempts"] == 3
    assert parked["error"].startswith(
        f"MapperDeserialisationError: Failed to deserialise state of stored event with topic '{NPS_RECORDED}'"
    ), parked["error"]
