"""The audit chain over what the store holds, on both stores: every recorded link is the documented
hash of the stored row (recomputed here with the standard library), a rebuild in a group of read models
chains the same, and what decoding cannot read, or reads differently, still chains and verifies, where
an edit of nothing but an event's recorded time is found."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.audit_entries import RecordedLinks, trail
from adapters.audit_verify import verify_chain
from adapters.projection_group import ProjectionGroup
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_models import read_models
from adapters.settings import Settings
from commands.executor import Executor
from commands.store import EventStore
from domain.rep import Rep
from projections.audit_trail import GENESIS
from tests.integration.test_projection_group import _runners, _simulated

REP_ONBOARDED = "domain.rep:Rep.Onboarded"


def _audit(store: EventStore, batch_size: int = 50) -> ProjectionRunner:
    return ProjectionRunner(store, open_doc_view(store), read_models(Settings())["audit"], batch_size)


def test_every_link_is_the_documented_hash_of_the_stored_row(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    audit = _audit(store)
    assert audit.rebuild() == head
    links = RecordedLinks(audit.view)
    previous = GENESIS
    for row in store.recorder.select_notifications(start=1, limit=head):
        header = json.dumps([row.id, f"{row.originator_id}:{row.originator_version}", row.topic])
        expected = hashlib.sha256(previous.encode() + header.replace(", ", ",").encode() + row.state)
        assert links.at(row.id) == expected.hexdigest(), row.topic
        previous = expected.hexdigest()
    check = verify_chain(store, audit.view)
    assert check.intact and check.checked == head, check.detail

    # Folded in a group with read models that decode (the funnel's events come decoded), the chain
    # still hashes the stored rows.
    head_doc = audit.view.get("audit", "chain", "head")
    runners = _runners(store, 70)
    ProjectionGroup(store, [runners["audit"], runners["funnel"]], 70).rebuild()
    assert audit.view.get("audit", "chain", "head") == head_doc


def test_what_decoding_cannot_read_still_chains(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    # Stored as another writer might have: an integer beyond 64 bits, and an event of a class that is
    # gone (no class answers to its topic).
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
    store.recorder.insert_events([StoredEvent(Rep.create_id("r-huge"), 1, REP_ONBOARDED, state)])
    store.recorder.insert_events([StoredEvent(uuid4(), 1, "tests.gone:Thing.Happened", b'{"x":1}')])
    audit = _audit(store)
    assert audit.rebuild() == head + 2
    assert audit.status()["parked"] == []
    # The rep's trail finds its event by the id the rep's own makes.
    [entry] = trail(store, audit.view, "rep", "r-huge")
    assert entry["intact"] and entry["changes"]["badge"] == 2**70
    check = verify_chain(store, audit.view)
    assert check.intact and check.checked == head + 2, check.detail


def test_an_edit_of_only_the_recorded_time_is_found(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    audit = _audit(store)
    audit.rebuild()
    target = head // 2
    [row] = store.recorder.select_notifications(start=target, limit=1)
    body = json.loads(row.state)
    assert body["timestamp"]["_type_"] == "datetime_iso"
    body["timestamp"]["_data_"] = "2020-01-01T00:00:00+00:00"
    edited = json.dumps(body, separators=(",", ":")).encode()
    if isinstance(store.recorder, PostgresApplicationRecorder):
        table = f'"{store.recorder.datastore.schema}".salesledger_events'
        update = f"UPDATE {table} SET state = %s WHERE notification_id = %s"
    else:
        update = "UPDATE stored_events SET state = ? WHERE rowid = ?"
    with store.recorder.datastore.transaction(commit=True) as db:
        db.execute(update, (edited, target))
    check = verify_chain(store, audit.view)
    assert check.first_difference == target, check.detail
