"""Projections rebuilt in worker processes (`projections rebuild --all --workers N`, PostgreSQL): the
groups are balanced and cover every projection once; every projection ends exactly as the in-process
rebuild leaves it; a worker killed in the middle (a real SIGKILL) is reported, its projections keep
what they saved, and catching up from there ends identical to an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest

from adapters.ledger_projection import LedgerProjection
from adapters.persistence import open_store
from adapters.projection_group import ProjectionGroup
from adapters.projection_members import projection, projection_names
from adapters.projection_processes import FOLD_COST, ParallelRebuild, RebuildFailed, parallel_store, partition
from adapters.settings import Settings
from commands.executor import Executor
from commands.store import EventStore
from tests.cli import salesledger
from tests.integration.test_projection_group import _runners, _saved, _simulated


@pytest.fixture
def store(postgres_url: str) -> Iterator[EventStore]:
    """Worker processes are for PostgreSQL only: every test here runs on it."""
    opened = open_store(postgres_url)
    yield opened
    opened.close()


def test_groups_cover_every_projection_once_and_balance_their_cost() -> None:
    names = projection_names(Settings())
    for workers in (1, 2, 3, len(names), len(names) + 4):
        groups = partition(names, workers)
        assert sorted(n for group in groups for n in group) == sorted(names)
        assert len(groups) == min(workers, len(names))
        for group in groups:
            assert group == [n for n in names if n in group], "a group keeps the order it was given"
    costs = sorted(sum(FOLD_COST[n] for n in group) for group in partition(names, 2))
    assert costs[1] - costs[0] <= max(FOLD_COST.values()), "the costliest projections are spread out"
    assert partition(["newcomer", "customer360"], 2) == [["customer360"], ["newcomer"]]
    with pytest.raises(ValueError, match="workers"):
        partition(names, 0)


def test_only_postgresql_gets_worker_processes() -> None:
    assert parallel_store(Settings(database_url="postgresql://u:p@h:5432/db?schema=s"))
    assert not parallel_store(Settings(database_url="sqlite:///./salesledger.db"))


def _settings(url: str) -> Settings:
    return Settings().model_copy(update={"database_url": url})


def test_workers_rebuild_every_projection_as_one_process_does(
    postgres_url: str, executor: Executor, store: EventStore
) -> None:
    head = _simulated(store, executor)
    ProjectionGroup(store, [*_runners(store, 500).values(), LedgerProjection(store, 500)], 500).rebuild()
    alone = _saved(store)

    rebuild = ParallelRebuild(_settings(postgres_url), projection_names(Settings()), batch_size=97, workers=2)
    assert len(rebuild.groups) == 2
    progress: list[int] = []
    assert rebuild.run(head, lambda position, _: progress.append(position)) == head
    assert progress == sorted(progress) and progress[-1] == head
    assert {process.exitcode for process in rebuild.processes} == {0}
    assert _saved(store) == alone


def test_a_killed_worker_is_reported_and_catching_up_ends_as_an_uninterrupted_run(
    postgres_url: str, executor: Executor, store: EventStore
) -> None:
    head = _simulated(store, executor)
    ProjectionGroup(store, [*_runners(store, 500).values(), LedgerProjection(store, 500)], 500).rebuild()
    uninterrupted = _saved(store)

    names = projection_names(Settings())
    rebuild = ParallelRebuild(_settings(postgres_url), names, batch_size=20, workers=2)
    killed: list[int] = []

    def kill_first_worker(position: int, _: int) -> None:
        worker = rebuild.processes[0]
        # Once it has saved a batch of its own: the rebuild had dropped what its projections held.
        if not killed and rebuild.reached[0] > 0 and worker.pid is not None and worker.is_alive():
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(position)

    with pytest.raises(RebuildFailed) as failed:
        rebuild.run(head, kill_first_worker)
    assert killed, "the first worker was still folding when progress came"
    message = str(failed.value)
    assert f"exited with code {-signal.SIGKILL}" in message
    for name in rebuild.groups[0]:
        assert name in message
    members = [projection(store, Settings(), name, 50) for name in names]
    stopped = {m.name: m.position for m in members if m.name in rebuild.groups[0]}
    assert min(stopped.values()) < head, "the killed worker's projections stopped before the head"
    assert all(m.position == head for m in members if m.name in rebuild.groups[1])

    assert ProjectionGroup(store, members, 50).catch_up() == head
    assert _saved(store) == uninterrupted


def test_the_cli_rebuilds_everything_over_workers(
    postgres_url: str, executor: Executor, store: EventStore
) -> None:
    head = _simulated(store, executor)
    result = salesledger(
        postgres_url, "projections", "rebuild", "--all", "--workers", "2", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout)["rebuilt"]
    assert [s["projection"] for s in statuses] == projection_names(Settings())
    assert all(s["position"] == head and s["lag"] == 0 for s in statuses)


def test_many_workers_starting_at_once_all_open_the_store(
    postgres_url: str, executor: Executor, store: EventStore
) -> None:
    # Opening a store runs the library's CREATE statements, which PostgreSQL refuses for the same
    # catalog entries in two sessions at once: without their turns, some of these workers failed.
    head = _simulated(store, executor)
    names = projection_names(Settings())
    for _ in range(3):
        rebuild = ParallelRebuild(_settings(postgres_url), names, batch_size=500, workers=len(names))
        assert rebuild.run(head) == head
        assert [process.exitcode for process in rebuild.processes] == [0] * len(names)
