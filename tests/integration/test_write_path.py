"""What the write path keeps to while it saves work: receipts as the aggregate would record them,
copies of what it read instead of store reads, and every decision still on the latest state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters.persistence import open_store
from commands.context import Context
from commands.executor import Executor
from commands.parsing import parse_command
from commands.store import EventStore
from commands.unit_of_work import UnitOfWork
from domain.deal import Deal
from domain.receipt import CommandReceipt
from tests.builders import activity, given, move, open_deal, org, run, token
from tests.conftest import FixedClock, event_count


@contextmanager
def counting_loads(store: EventStore) -> Iterator[list[UUID]]:
    loads: list[UUID] = []
    load = store.repository.get

    def counted(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        loads.append(aggregate_id)
        return load(aggregate_id, *args, **kwargs)

    store.repository.get = counted  # type: ignore[method-assign]
    try:
        yield loads
    finally:
        del store.repository.get


def test_a_receipt_is_stored_last_in_its_commands_transaction_and_reads_back(
    store: EventStore, executor: Executor
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t))
    applied = executor.execute(parse_command(activity(t, "call") | {"command_id": f"a-{t}"}))
    blocked = executor.execute(parse_command(move(t, "quotation") | {"command_id": f"b-{t}"}))
    assert (applied.status, blocked.status) == ("applied", "blocked")
    for outcome, command_id, command_type in (
        (applied, f"a-{t}", "LogActivity"),
        (blocked, f"b-{t}", "MoveStage"),
    ):
        assert outcome.position is not None
        [last] = store.recorder.select_notifications(start=outcome.position, limit=1)
        assert last.topic == "domain.receipt:CommandReceipt.Handled"
        receipt: object = store.repository.get(CommandReceipt.create_id(command_id))
        assert isinstance(receipt, CommandReceipt)
        assert (receipt.command_id, receipt.command_type, receipt.error) == (
            command_id,
            command_type,
            outcome.error,
        )
        [before] = store.recorder.select_notifications(start=outcome.position - 1, limit=1)
        assert before.topic.startswith("domain.deal:Deal.")


def test_a_command_id_repeated_within_one_import_batch_is_applied_once(
    store: EventStore, executor: Executor
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t))
    call = activity(t, "call") | {"command_id": f"x-{t}"}
    before = event_count(store)
    outcomes = list(
        executor.execute_many(
            [parse_command(c) for c in (call, call, activity(t, "demo") | {"command_id": f"x-{t}"})]
        )
    )
    assert [o.status for o in outcomes] == ["applied", "duplicate", "refused"]
    assert "already used for a different LogActivity command" in (outcomes[2].error or "")
    assert event_count(store) == before + 2  # the activity and its receipt


def test_what_a_command_read_serves_the_next_one_without_a_store_read(
    store: EventStore, executor: Executor, clock: FixedClock
) -> None:
    t = token()
    given(Executor(store, Context(clock=clock)), *org(t), open_deal(t))  # another process's writes
    with counting_loads(store) as loads:
        given(executor, activity(t, "call"), move(t, "qualified"))  # the rep and deal, the gate book
        first = len(loads)
        given(executor, activity(t, "demo"), move(t, "needs_confirmed", day=5))
    assert first == 3
    # The gate book is reloaded on SQLite, whose saves cannot confirm what was read.
    checks = getattr(store.recorder, "checks_reads", False)
    assert len(loads) == first + (0 if checks else 1)


def test_a_gate_policy_another_process_publishes_governs_the_next_move_at_once(
    database_url: str, clock: FixedClock
) -> None:
    t = token()
    first, second = open_store(database_url), open_store(database_url)
    cached = Executor(first, Context(clock=clock))
    given(cached, *org(t), open_deal(t), open_deal(t, deal="e"), activity(t, "call"))
    # The first process decides under the default policy and remembers there is no other.
    [blocked] = run(cached, move(t, "quotation", deal="e"))
    assert blocked.status == "blocked"
    given(
        Executor(second, Context(clock=clock)),
        {"type": "PublishGatePolicy", "policy": {"version": 2, "stages": {}}, "command_id": f"p-{t}"},
    )
    [moved] = run(cached, move(t, "quotation"))
    assert moved.status == "applied", moved.error
    first.close()
    second.close()


@pytest.mark.postgres
def test_the_store_refuses_a_save_decided_on_a_read_that_changed_since(postgres_url: str) -> None:
    store = open_store(postgres_url)
    read, written = uuid4(), uuid4()
    store.recorder.insert_events([StoredEvent(read, 1, "t", b"{}")])
    head = store.recorder.max_notification_id()
    for stale in ({read: 0}, {read: 2}, {uuid4(): 1}):
        with pytest.raises(IntegrityError, match="changed after it was read"):
            store.recorder.insert_events([StoredEvent(written, 1, "t", b"{}")], read_versions=stale)
    assert store.recorder.max_notification_id() == head
    store.recorder.insert_events([StoredEvent(written, 1, "t", b"{}")], read_versions={read: 1, uuid4(): 0})
    assert store.recorder.max_notification_id() == (head or 0) + 1
    store.close()


@pytest.mark.postgres
def test_a_save_stores_each_column_as_given(postgres_url: str) -> None:
    store = open_store(postgres_url)
    one, two = uuid4(), uuid4()
    events = [
        StoredEvent(one, 1, "domain.deal:Deal.Opened", b'{"name":"\xe5\xbc\xa0"}'),
        StoredEvent(two, 1, "tests:Ünïcode.Topic", b"\x00\xff" * 300),
        StoredEvent(one, 2**40, "domain.deal:Deal.Moved", b""),
    ]
    positions = store.recorder.insert_events(events)
    assert positions is not None and len(positions) == 3
    stored = store.recorder.select_notifications(start=positions[0], limit=3)
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in stored] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in events
    ]
    store.close()


def test_what_an_unsaved_command_did_to_an_aggregate_never_reaches_the_next_command(
    store: EventStore, executor: Executor, clock: FixedClock
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t))
    # A command that changed the deal, then never saved (refused, crashed, lost a race).
    unsaved = UnitOfWork(store, shared=executor.shared_cache, assume_new=True)
    deal = unsaved.get(Deal, f"d-{t}", field="deal_id", label="deal")
    deal.log_activity(f"smb-{t}", "demo", None, None, None, clock())
    given(executor, activity(t, "call"))
    stored: Deal = store.repository.get(Deal.create_id(f"d-{t}"))
    assert stored.activities == {"call": 1}


def test_the_commands_after_an_import_start_from_what_it_wrote(store: EventStore, executor: Executor) -> None:
    t = token()
    list(executor.execute_many([parse_command(c) for c in (*org(t), open_deal(t), activity(t, "call"))]))
    with counting_loads(store) as loads:
        given(executor, activity(t, "demo"), activity(t, "visit", rep="ka"))
    assert loads == []
    stored: Deal = store.repository.get(Deal.create_id(f"d-{t}"))
    assert stored.activities == {"call": 1, "demo": 1, "visit": 1}
