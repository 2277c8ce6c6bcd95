"""How the runner saves, on both stores: a batch is written while the next one folds, yet a save that
fails loses nothing and a runner that finds another one ahead of it takes that one's state; the view
stores exactly the text it was given, whatever the characters, and the last change of a key wins."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.doc_view import DocView, Encoded, Parked
from adapters.persistence import open_store
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.simulation import simulate
from commands.executor import Executor
from commands.store import EventStore
from projections.audit_trail import AuditTrail
from projections.funnel import FunnelHealth
from projections.read_model import DocChange
from tests.property.test_ledger_properties import execute


class SaveFails(RuntimeError):
    pass


def _history(executor: Executor) -> None:
    execute(executor, list(simulate(reps=3, deals=12, months=2, seed=5, start="2026-01")))


def test_a_failed_save_loses_nothing_the_next_catch_up_folds_it_again(
    store: EventStore, executor: Executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(executor)
    view = open_doc_view(store)
    runner = ProjectionRunner(store, view, FunnelHealth, batch_size=20)
    write = view.write
    calls = {"n": 0}

    def third_write_fails(projection: str, batch: Encoded, parked: list[Parked], position: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise SaveFails("the database went away")
        write(projection, batch, parked, position)

    monkeypatch.setattr(view, "write", third_write_fails)
    with pytest.raises(SaveFails):
        runner.catch_up()
    saved_before = view.position("funnel")
    assert 0 < saved_before < runner.head()
    # The batch that failed (and the one folded behind it) are folded again, not skipped.
    assert runner.catch_up() == runner.head()
    checked = runner.verify()
    assert checked["saved"] == checked["replayed"]


def test_a_runner_behind_another_on_the_same_projection_takes_its_state(
    store: EventStore, executor: Executor
) -> None:
    _history(executor)
    view = open_doc_view(store)
    behind = ProjectionRunner(store, view, AuditTrail, batch_size=30)
    ahead = ProjectionRunner(store, view, AuditTrail, batch_size=30)
    # `behind` loads what is saved (nothing) before `ahead` saves, and still thinks nothing is saved
    # after: its first save meets the position `ahead` tracked.
    assert behind.position == 0
    ahead.catch_up(max_batches=4)
    assert behind.position == 0
    assert behind.catch_up() == behind.head()
    checked = behind.verify()
    assert checked["saved"] == checked["replayed"]


AWKWARD = ['quote " and \\ backslash', "{braces}, commas", "NULL", "", " padded ", "中文、全角", "tab\there"]


def test_the_view_stores_the_text_it_was_given_and_the_last_change_of_a_key_wins(store: EventStore) -> None:
    view: DocView = open_doc_view(store)
    first = [
        DocChange("kind", f"key-{i}", {"text": text, "n": i}, part=text, sort=text)
        for i, text in enumerate(AWKWARD)
    ]
    view.save("awkward", [*first, DocChange("kind", "gone", {"n": -1})], [], 1)
    later: list[Any] = [
        DocChange("kind", "key-0", {"text": "first write"}, part="p", sort="1"),
        DocChange("kind", "key-0", {"text": "second write"}, part="q", sort="2"),
        DocChange("kind", "gone", None),
        DocChange("kind", "key-1", None),
        DocChange("kind", "never-there", None),
    ]
    view.save("awkward", later, [], 2)
    rows = {key: (part, sort, doc) for _, key, part, sort, doc in view.everything("awkward")}
    assert set(rows) == {f"key-{i}" for i in range(len(AWKWARD)) if i != 1}
    assert view.get("awkward", "kind", "key-0") == {"text": "second write"}
    assert rows["key-0"][:2] == ("q", "2")
    for i, text in enumerate(AWKWARD[2:], start=2):
        assert view.get("awkward", "kind", f"key-{i}") == {"text": text, "n": i}
        assert rows[f"key-{i}"][:2] == (text, text)
    assert [key for key, _ in view.part("awkward", "kind", AWKWARD[5])] == ["key-5"]
    assert view.position("awkward") == 2
    # Written for the first time since a reset, they are inserted (on PostgreSQL, copied in): the same.
    view.reset("awkward")
    view.save("awkward", first, [], 3)
    rows = {key: (part, sort, doc) for _, key, part, sort, doc in view.everything("awkward")}
    for i, text in enumerate(AWKWARD):
        assert view.get("awkward", "kind", f"key-{i}") == {"text": text, "n": i}
        assert rows[f"key-{i}"][:2] == (text, text)
    assert [key for key, _ in view.part("awkward", "kind", AWKWARD[6])] == ["key-6"]


def test_after_a_reset_new_documents_are_inserted_and_rewritten_ones_updated(store: EventStore) -> None:
    view: DocView = open_doc_view(store)
    view.save("fresh", [DocChange("kind", "old", {"n": 0})], [], 1)
    view.reset("fresh")
    view.save("fresh", [DocChange("kind", "a", {"n": 1}), DocChange("kind", "b", {"n": 2})], [], 2)
    # "a" again (written since the reset), "b" gone then back, "c" new.
    view.save("fresh", [DocChange("kind", "a", {"n": 3}), DocChange("kind", "b", None)], [], 3)
    view.save("fresh", [DocChange("kind", "b", {"n": 4}), DocChange("kind", "c", {"n": 5})], [], 4)
    assert {key: doc for _, key, _, _, doc in view.everything("fresh")} == {
        "a": '{"n":3}',
        "b": '{"n":4}',
        "c": '{"n":5}',
    }


def test_a_document_another_writer_saved_since_the_reset_fails_the_write_and_the_next_ones_update(
    store: EventStore,
) -> None:
    """After a reset the view inserts what it has not written yet; if another process (a second
    rebuild) wrote the same document meanwhile, the write fails whole, as a tracking conflict does,
    and from then on the view assumes nothing of the table: what it writes next is upserted."""
    mine: DocView = open_doc_view(store)
    other: DocView = open_doc_view(store)
    mine.reset("shared")
    other.save("shared", [DocChange("kind", "k", {"by": "other"}), DocChange("kind", "m", {})], [], 2)
    batch = [DocChange("kind", "k", {"by": "mine"}), DocChange("kind", "j", {})]
    if isinstance(store.recorder, PostgresApplicationRecorder):
        with pytest.raises(IntegrityError):
            mine.save("shared", batch, [], 3)
        assert mine.get("shared", "kind", "j") is None
        assert mine.position("shared") == 2
    else:
        mine.save("shared", batch, [], 3)
    mine.save(
        "shared", [DocChange("kind", "k", {"by": "mine"}), DocChange("kind", "m", {"by": "mine"})], [], 6
    )
    assert mine.get("shared", "kind", "k") == {"by": "mine"}
    assert mine.get("shared", "kind", "m") == {"by": "mine"}


def test_postgresql_stores_documents_uncompressed(postgres_url: str) -> None:
    """Compressing a document costs the server CPU at every write, and the audit trail's segments of
    hashes (random hex) do not compress: documents are stored as they are, also after a second open."""
    store = open_store(postgres_url)
    assert isinstance(store.recorder, PostgresApplicationRecorder)
    open_doc_view(store)
    view: DocView = open_doc_view(store)
    big = {"hashes": [hashlib.sha256(str(i).encode()).hexdigest() for i in range(2000)]}
    view.save("big", [DocChange("links", "0", big)], [], 1)
    table = f'"{store.recorder.datastore.schema}"."read_docs"'
    with store.recorder.datastore.transaction(commit=False) as curs:
        curs.execute(
            f"SELECT attstorage FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname = 'doc'"
        )
        storage = curs.fetchall()
        curs.execute(f"SELECT pg_column_size(doc), length(doc) FROM {table} WHERE projection = 'big'")
        sizes = curs.fetchall()
    assert [tuple(row.values()) for row in storage] == [("e",)]
    [(stored, length)] = [tuple(row.values()) for row in sizes]
    assert stored >= length > 100_000
    assert view.get("big", "links", "0") == big
    store.close()
