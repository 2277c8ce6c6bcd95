"""The audit chain folded from stored bytes (`projections.stored_payload`) hashes exactly what the
decoded event gives: on every event of a simulated history, on both stores; on arbitrary field values
stored by the store's own transcoder; and where it cannot read an event the same way (an integer
beyond 64 bits), the audit trail decodes that event and its chain still verifies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.audit_verify import verify_chain
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_models import read_models
from adapters.settings import Settings
from commands.executor import Executor
from commands.store import EventStore
from projections.audit_trail import encoded_payload, payload
from projections.json_text import plain
from projections.read_model import topic_of
from projections.stored_payload import encoded_stored_payload, stored_fields
from tests.integration.test_projection_group import _simulated

REP_ONBOARDED = "domain.rep:Rep.Onboarded"
# The store's own transcoder (the one every store writes with), without a database behind it.
TRANSCODER = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper.transcoder


def test_every_stored_event_reads_as_its_decoded_payload(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    notifications = store.recorder.select_notifications(start=1, limit=head)
    assert len(notifications) == head
    for notification in notifications:
        event = store.mapper.to_domain_event(notification)
        read = encoded_stored_payload(notification.topic, notification.state)
        assert read is not None, notification.topic
        encoded, fields = read
        assert encoded == encoded_payload(event), notification.topic
        assert fields == payload(event)


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == 0 or abs(f) >= 1e-4)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.datetimes(
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
        )
    )
    | st.dates()
    | st.uuids(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.text(min_size=1, max_size=10), _values, max_size=6))
def test_arbitrary_fields_read_as_decoding_spells_them(fields: dict[str, Any]) -> None:
    state = TRANSCODER.encode(
        {**fields, "timestamp": datetime.now(UTC), "originator_topic": "domain.rep:Rep"}
    )
    decoded = TRANSCODER.decode(state)
    expected = plain({k: v for k, v in decoded.items() if k not in ("timestamp", "originator_topic")})
    read = stored_fields(REP_ONBOARDED, state)
    if read is None:
        assert re.search(rb"[0-9]{19}", state), "only what may be a long number is left to decoding"
    else:
        assert read == expected


def test_what_it_cannot_read_the_same_way_is_left_to_decoding() -> None:
    assert stored_fields(REP_ONBOARDED, b'{"n":%d}' % 2**70) is None, "orjson would make it a float"
    assert stored_fields(REP_ONBOARDED, b'{"n":-%d}' % (2**63 + 1)) is None
    assert stored_fields(REP_ONBOARDED, b'{"n":-%d,"m":%d}' % (2**63, 2**64 - 1)) == {
        "n": -(2**63),
        "m": 2**64 - 1,
    }
    assert stored_fields(REP_ONBOARDED, b'{"h":1.5,"l":[2.25,3],"n":3}') == {"h": 1.5, "l": [2.25, 3], "n": 3}
    assert stored_fields(REP_ONBOARDED, b'{"n":%d}' % 10**17) == {"n": 10**17}
    assert stored_fields(REP_ONBOARDED, b'{"x":{"_type_":"pickled","_data_":"..."}}') is None
    assert stored_fields(REP_ONBOARDED, b'{"class_version":2,"rep_id":"r-1"}') is None, "would be upcast"
    assert stored_fields(REP_ONBOARDED, b'{"amount":{"_type_":"decimal_str","_data_":"abc"}}') is None
    assert stored_fields(REP_ONBOARDED, b"[1,2]") is None
    assert stored_fields(REP_ONBOARDED, b'{"_type_":"decimal_str","_data_":"1"}') is None, "not fields"
    assert stored_fields(REP_ONBOARDED, b'{"d":{"_type_":"date_iso","_data_":"2026-02-03"}}') == {
        "d": "2026-02-03"
    }
    uuid = UUID("12345678-1234-5678-1234-567812345678")
    assert stored_fields(REP_ONBOARDED, b'{"u":{"_type_":"uuid_hex","_data_":"%s"}}' % uuid.hex.encode()) == {
        "u": str(uuid)
    }


def test_an_event_only_decoding_reads_keeps_the_chain_intact(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    # Stored as another writer might have: a field holding an integer beyond 64 bits, which orjson
    # refuses and the library's decoder reads.
    state = store.mapper.transcoder.encode(
        {
            "timestamp": datetime.now(UTC),
            "originator_topic": "domain.rep:Rep",
            "rep_id": "r-huge",
            "name": "Big Number",
            "role": "smb",
            "team": "north",
            "region": "CN-N",
            "occurred_at": datetime(2026, 3, 1, 9, tzinfo=UTC),
            "badge": 2**70,
        }
    )
    store.recorder.insert_events([StoredEvent(uuid4(), 1, REP_ONBOARDED, state)])
    notification = store.recorder.select_notifications(start=head + 1, limit=1)[0]
    assert encoded_stored_payload(notification.topic, notification.state) is None
    assert b"1180591620717411303424" in encoded_payload(store.mapper.to_domain_event(notification))
    assert topic_of(store.mapper.to_domain_event(notification)) == REP_ONBOARDED

    view = open_doc_view(store)
    audit = ProjectionRunner(store, view, read_models(Settings())["audit"], 50)
    assert audit.rebuild() == head + 1
    assert audit.status().get("parked", []) == []
    check = verify_chain(store, view)
    assert check.intact and check.checked == head + 1, check.detail
