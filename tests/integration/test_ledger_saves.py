"""How the ledger saves, on both stores: alone or in a group, each batch is written on another thread
while the next one folds, yet the tables end row for row as saving each batch before folding the next
left them; a write holds the rows as folded, whatever the ledger folds after; a save that fails loses
nothing, a ledger behind another process takes that one's state, and an event it cannot decode halts
it where it is, every time it is asked to go on."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.ledger_projection import LedgerProjection
from adapters.ledger_view import Encoded, LedgerView, encode
from adapters.projection_group import ProjectionGroup
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_ahead import read_batch
from adapters.simulation import simulate
from commands.executor import Executor
from commands.store import EventStore
from projections.audit_trail import AuditTrail
from projections.ledger import Ledger
from projections.pay_facts import PAY_TOPICS
from tests.property.test_ledger_properties import execute

Tables = dict[str, Any]


class SaveFails(RuntimeError):
    pass


def _history(store: EventStore, executor: Executor) -> int:
    execute(executor, list(simulate(reps=4, deals=30, months=3, seed=3, start="2026-01")))
    return store.recorder.max_notification_id() or 0


def _tables(store: EventStore, view: LedgerView) -> Tables:
    """Every saved row, as the database holds it, and the tracking position."""
    prefix = (
        f"{store.recorder.datastore.schema}."
        if isinstance(store.recorder, PostgresApplicationRecorder)
        else ""
    )
    queries = {
        "facts": f"SELECT kind, key, doc FROM {prefix}ledger_facts ORDER BY kind, key",
        "closed": f"SELECT period, doc FROM {prefix}ledger_closed ORDER BY period",
        "lines": f"SELECT * FROM {prefix}ledger_lines ORDER BY period, seq",
    }
    tables: Tables = {}
    with view.datastore.transaction(commit=False) as cursor:
        for table, query in queries.items():
            cursor.execute(query)
            rows = cursor.fetchall()
            tables[table] = [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in rows]
    tables["position"] = view.load().position
    return tables


class Expected:
    """The tables as saving every batch in turn leaves them, worked out here, without SQL: the last
    document of a key wins, and a closed period's lines are replaced by the latest batch's."""

    def __init__(self) -> None:
        self.facts: dict[tuple[str, str], str] = {}
        self.closed: dict[str, str] = {}
        self.lines: dict[str, list[tuple[Any, ...]]] = {}
        self.position = 0

    def save(self, batch: Encoded, position: int) -> None:
        self.facts.update({(kind, key): doc for kind, key, doc in batch.facts})
        self.closed.update(dict(batch.closed))
        for period, _ in batch.closed:
            self.lines[period] = [row for row in batch.lines if row[0] == period]
        self.position = position

    def tables(self) -> Tables:
        return {
            "facts": [(kind, key, doc) for (kind, key), doc in sorted(self.facts.items())],
            "closed": sorted(self.closed.items()),
            "lines": [row for period in sorted(self.lines) for row in self.lines[period]],
            "position": self.position,
        }


def _batches(store: EventStore, batch_size: int) -> list[tuple[list[Any], int]]:
    """The store's pay events in the batches a catch-up reads, each with the position it ends at."""
    head = store.recorder.max_notification_id() or 0
    batches: list[tuple[list[Any], int]] = []
    position = 0
    while position < head:
        notifications = list(read_batch(store, position, head, batch_size, PAY_TOPICS))
        position = notifications[-1].id if len(notifications) == batch_size else head
        batches.append((notifications, position))
    return batches


def _saved_batch_by_batch(store: EventStore, batch_size: int) -> Tables:
    """The ledger folded in the same batches, each saved before the next is folded."""
    ledger = Ledger()
    expected = Expected()
    for notifications, position in _batches(store, batch_size):
        for notification in notifications:
            ledger.apply(store.mapper.to_domain_event(notification))
        expected.save(encode(ledger.facts.take_changes(), ledger.take_closed_changes()), position)
    return expected.tables()


@pytest.mark.parametrize("batch_size", [29, 2000])
def test_alone_and_in_a_group_the_tables_end_as_saving_each_batch_in_turn_leaves_them(
    store: EventStore, executor: Executor, batch_size: int
) -> None:
    head = _history(store, executor)
    expected = _saved_batch_by_batch(store, batch_size)
    assert expected["lines"] and expected["closed"], "the history must close periods to compare"

    alone = LedgerProjection(store, batch_size)
    progress: list[int] = []
    assert alone.rebuild(on_progress=lambda position, _: progress.append(position)) == head
    assert progress == sorted(progress) and progress[-1] == head
    assert _tables(store, alone.view) == expected

    ledger = LedgerProjection(store, batch_size)
    audit = ProjectionRunner(store, open_doc_view(store), AuditTrail, batch_size)
    assert ProjectionGroup(store, [audit, ledger], batch_size).rebuild() == head
    assert _tables(store, ledger.view) == expected


def test_a_write_holds_the_rows_as_folded_whatever_the_ledger_folds_after(
    store: EventStore, executor: Executor
) -> None:
    _history(store, executor)
    batches = _batches(store, 40)
    expected = Expected()
    reference = Ledger()
    ledger = LedgerProjection(store, 40)
    ledger.reset()
    writes = []
    for notifications, position in batches:
        for notification in notifications:
            reference.apply(store.mapper.to_domain_event(notification))
        writes.append(
            (
                ledger.fold_shared([(notification, None) for notification in notifications], position),
                encode(reference.facts.take_changes(), reference.take_closed_changes()),
                position,
            )
        )
    # Every batch is folded before the first is written: each write still saves its batch as folded.
    for write, batch, position in writes:
        write()
        expected.save(batch, position)
        assert _tables(store, ledger.view) == expected.tables(), position


def test_a_failed_save_loses_nothing_the_next_catch_up_folds_it_again(
    store: EventStore, executor: Executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = _history(store, executor)
    expected = _saved_batch_by_batch(store, 25)
    ledger = LedgerProjection(store, 25)
    ledger.reset()
    write = ledger.view.write
    calls = {"n": 0}

    def third_write_fails(batch: Encoded, position: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise SaveFails("the database went away")
        write(batch, position)

    monkeypatch.setattr(ledger.view, "write", third_write_fails)
    with pytest.raises(SaveFails):
        ledger.catch_up()
    assert 0 < ledger.view.load().position < head
    # What failed to save, and what was folded behind it, are folded again from what was saved.
    assert ledger.catch_up() == head
    assert _tables(store, ledger.view) == expected


def test_a_ledger_behind_another_process_takes_its_state_and_goes_on(
    store: EventStore, executor: Executor
) -> None:
    head = _history(store, executor)
    expected = _saved_batch_by_batch(store, 30)
    behind = LedgerProjection(store, 30)
    behind.reset()
    ahead = LedgerProjection(store, 30)
    ahead.catch_up(max_batches=4)
    # `behind` still holds nothing saved: its first write meets the position `ahead` tracked.
    assert behind.position == 0
    assert behind.catch_up() == head
    assert _tables(store, behind.view) == expected
    assert behind.ledger.lines("2026-02") == LedgerProjection(store).ledger.lines("2026-02")


def _undecodable_order(store: EventStore) -> int:
    store.recorder.insert_events([StoredEvent(uuid4(), 1, "domain.order:Order.Booked", b"{not json")])
    return store.recorder.max_notification_id() or 0


def test_an_event_the_ledger_cannot_decode_halts_it_alone_and_in_a_group(
    store: EventStore, executor: Executor
) -> None:
    _history(store, executor)
    bad = _undecodable_order(store)
    ledger = LedgerProjection(store, 50)
    ledger.reset()
    with pytest.raises(MapperDeserialisationError):
        ledger.catch_up()
    saved = ledger.view.load().position
    assert 0 < saved < bad
    # Asked again, it halts on the same event, from what it saved: it never folds past it.
    with pytest.raises(MapperDeserialisationError):
        ledger.catch_up()
    assert ledger.view.load().position == saved

    ledger = LedgerProjection(store, 50)
    ledger.reset()
    audit = ProjectionRunner(store, open_doc_view(store), AuditTrail, 50)
    audit.reset()
    with pytest.raises(MapperDeserialisationError):
        ProjectionGroup(store, [audit, ledger], 50).catch_up()
    assert 0 < LedgerProjection(store, 50).position < bad


def test_a_rebuild_drops_the_saved_ledger_unread(store: EventStore, executor: Executor) -> None:
    head = _history(store, executor)
    expected = _saved_batch_by_batch(store, 60)
    # Saved by some other version, in a form this one cannot load.
    LedgerProjection(store).view.write(Encoded([("no-such-kind", "k", "{}")], [], []), 1)
    with pytest.raises(ValueError, match="unknown pay fact kind"):
        LedgerProjection(store).status()
    assert LedgerProjection(store, 60).rebuild() == head
    assert _tables(store, LedgerProjection(store).view) == expected
