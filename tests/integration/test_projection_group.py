"""Projections folded in one pass over the store (`projections rebuild --all`), on both stores: every
read model and the ledger end exactly as each would rebuilt alone, whatever the batch size; projections
at different positions each fold only what they have not; a bad event is still parked by the read model
that cannot take it; and a projection another process has tracked further is caught up from there."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapters.ledger_projection import LedgerProjection
from adapters.projection_group import ProjectionGroup
from adapters.projection_runner import ProjectionRunner, checksum, open_doc_view
from adapters.read_models import read_models
from adapters.settings import Settings
from adapters.simulation import simulate
from commands.executor import Executor
from commands.store import EventStore
from replay.payroll import line_document
from tests.builders import given as history_of
from tests.builders import org, token
from tests.cli import salesledger
from tests.integration.test_projection_runner import FussyCounter
from tests.property.test_ledger_properties import execute


def _simulated(store: EventStore, executor: Executor) -> int:
    execute(executor, list(simulate(reps=4, deals=30, months=3, seed=3, start="2026-01")))
    return store.recorder.max_notification_id() or 0


def _runners(store: EventStore, batch_size: int) -> dict[str, ProjectionRunner]:
    view = open_doc_view(store)
    return {
        name: ProjectionRunner(store, view, factory, batch_size)
        for name, factory in read_models(Settings()).items()
    }


def _saved(store: EventStore) -> dict[str, Any]:
    view = open_doc_view(store)
    sums = {name: checksum(view.everything(name)) for name in read_models(Settings())}
    ledger = LedgerProjection(store).ledger
    periods = sorted(set(ledger.facts.periods()) | set(ledger.closed))
    sums["ledger"] = {p: [line_document(line) for line in ledger.lines(p)] for p in periods}
    return sums


@pytest.mark.parametrize("batch_size", [1, 37, 2000])
def test_one_pass_rebuilds_every_projection_as_each_would_alone(
    store: EventStore, executor: Executor, batch_size: int
) -> None:
    head = _simulated(store, executor)
    for runner in _runners(store, 500).values():
        runner.rebuild()
    LedgerProjection(store, 500).rebuild()
    alone = _saved(store)
    assert alone["ledger"], "the history must give the ledger lines to compare"

    members = [*_runners(store, batch_size).values(), LedgerProjection(store, batch_size)]
    group = ProjectionGroup(store, members, batch_size)
    progress: list[int] = []
    assert group.rebuild(on_progress=lambda position, _: progress.append(position)) == head
    assert progress == sorted(progress) and progress[-1] == head
    assert all(member.position == head for member in members)
    assert _saved(store) == alone
    for runner in _runners(store, 500).values():
        checked = runner.verify()
        assert checked["saved"] == checked["replayed"], runner.name


def test_each_projection_folds_only_what_it_has_not(store: EventStore, executor: Executor) -> None:
    head = _simulated(store, executor)
    runners = _runners(store, 50)
    runners["audit"].rebuild()  # at the head already
    runners["funnel"].reset()
    runners["funnel"].catch_up(max_batches=3)  # part of the way
    for name in ("customer360", "collaboration", "service"):
        runners[name].reset()  # from the start
    ledger = LedgerProjection(store, 50)
    ledger.reset()
    group = ProjectionGroup(store, [*runners.values(), ledger], 64)
    assert group.catch_up() == head
    for runner in _runners(store, 500).values():
        checked = runner.verify()
        assert checked["saved"] == checked["replayed"], runner.name
        assert checked["position"] == head


def test_a_bad_event_is_parked_by_the_read_model_that_cannot_take_it(
    store: EventStore, executor: Executor
) -> None:
    t = token()
    history_of(executor, *org(t))
    for score in (9, 3, 7):
        history_of(
            executor,
            {
                "type": "RecordNps",
                "customer_id": f"c-{t}",
                "score": score,
                "occurred_at": "2026-01-05T09:00:00+08:00",
            },
        )
    view = open_doc_view(store)
    fussy = ProjectionRunner(store, view, FussyCounter, 2)
    audit = ProjectionRunner(store, view, read_models(Settings())["audit"], 2)
    fussy.reset()
    audit.reset()
    head = ProjectionGroup(store, [fussy, audit], 2).catch_up()
    assert fussy.position == audit.position == head
    assert [p["error"] for p in fussy.status()["parked"]] == [
        "ValueError: score: 3 is not a score this fold takes"
    ]
    assert list(ProjectionRunner(store, view, FussyCounter).model.counts.values()) == [2]
    assert audit.status()["parked"] == []
    checked = audit.verify()
    assert checked["saved"] == checked["replayed"]


def test_a_projection_another_process_tracked_further_is_caught_up_from_there(
    store: EventStore, executor: Executor
) -> None:
    head = _simulated(store, executor)
    runners = _runners(store, 40)
    for runner in runners.values():
        runner.reset()
    # Another process catches the funnel up while this one still holds it at the start.
    elsewhere = _runners(store, 1000)["funnel"]
    elsewhere.catch_up()
    group = ProjectionGroup(store, list(runners.values()), 40)
    with capture_logs() as logs:
        assert group.catch_up() == head
    assert "projection_group.tracked_elsewhere" in [entry["event"] for entry in logs]
    for runner in _runners(store, 500).values():
        checked = runner.verify()
        assert checked["saved"] == checked["replayed"], runner.name
        assert checked["position"] == head


def test_rebuild_all_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text(
        "\n".join(json.dumps(c) for c in simulate(reps=3, deals=10, months=2, seed=9, start="2026-01")) + "\n"
    )
    imported = salesledger(database_url, "import", str(history), "--format", "json")
    assert imported.returncode in (0, 1), imported.stderr
    rebuilt = salesledger(database_url, "projections", "rebuild", "--all", "--format", "json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)
    names = ["ledger", *read_models(Settings())]
    assert [p["projection"] for p in report["rebuilt"]] == names
    assert {p["lag"] for p in report["rebuilt"]} == {0}
    for name in names:
        verified = salesledger(database_url, "projections", "verify", name, "--format", "json")
        assert verified.returncode == 0, verified.stdout + verified.stderr

    # More history; `projections run` follows it with the read models in one pass, the ledger apart.
    more = tmp_path / "more.jsonl"
    more.write_text(
        "\n".join(json.dumps(c) for c in simulate(reps=2, deals=6, months=1, seed=10, start="2026-03")) + "\n"
    )
    assert salesledger(database_url, "import", str(more)).returncode in (0, 1)
    ran = salesledger(database_url, "projections", "run", "--until-head", "--poll", "0.1")
    assert ran.returncode == 0, ran.stderr
    assert "following ledger, audit" in ran.stderr
    status = json.loads(salesledger(database_url, "projections", "status", "--format", "json").stdout)
    assert {p["projection"]: p["lag"] for p in status["projections"]} == dict.fromkeys(names, 0)
    for name in names:
        verified = salesledger(database_url, "projections", "verify", name, "--format", "json")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    neither = salesledger(database_url, "projections", "rebuild")
    assert neither.returncode == 2
    assert "name a projection or pass --all" in neither.stderr


def test_every_read_model_stopped_and_resumed_from_its_documents_ends_as_a_replay(
    store: EventStore, executor: Executor
) -> None:
    head = _simulated(store, executor)
    for name, first in _runners(store, 17).items():
        first.reset()
        first.catch_up(max_batches=5)
        assert first.position > 0, name
        # A new process: the fold goes on from the state it loads back from the saved documents.
        resumed = _runners(store, 23)[name]
        assert resumed.catch_up() == head
        checked = resumed.verify()
        assert checked["saved"] == checked["replayed"], name


def test_folding_every_projection_makes_no_reference_cycles(store: EventStore, executor: Executor) -> None:
    """Catch-ups collect no garbage while they run (`adapters.gc_quiet`): that is only sound while
    folds leave nothing for the cyclic collector, which a full collection after one finds."""
    _simulated(store, executor)
    members = [*_runners(store, 50).values(), LedgerProjection(store, 50)]
    group = ProjectionGroup(store, members, 50)
    for member in members:
        member.reset()
    gc.collect()
    gc.disable()
    try:
        group.catch_up()
        for member in members:
            member.catch_up()
        assert gc.collect() == 0
    finally:
        gc.enable()
