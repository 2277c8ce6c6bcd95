"""Rebuilding several projections in worker processes, one group of projections per process.

A fold is Python, so one process folds on one core however many threads it has: rebuilding every
projection in one pass keeps one core busy while the others idle. Here the projections are split
into as many groups as there are workers, each group rebuilt in one pass (`ProjectionGroup`) by its
own process with its own connections, so each event is still read and decoded once per group.
Groups are balanced by what each projection costs to fold (measured, see `FOLD_COST`).

Nothing is shared between the processes but the store: every projection saves each batch with its
tracking position in one transaction, as it does alone. A worker that fails or is killed leaves its
projections where they last saved; the others finish; the failure is raised here afterwards, and a
`catch_up` (or `projections run`) of those projections goes on from their saved positions.

Only PostgreSQL gets worker processes: SQLite takes one writer at a time, so there the group folds in
this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Lock

from adapters.catch_up_pipeline import Progress
from adapters.ledger_projection import open_ledger_view
from adapters.persistence import open_store
from adapters.projection_group import ProjectionGroup
from adapters.projection_members import REBUILD_BATCH_SIZE, projection
from adapters.projection_runner import open_doc_view
from adapters.settings import Settings

# Seconds each projection costs a group's rebuild, over the same 1,006,478-event simulated history in
# batches of 100,000: each alone (`python -m tests.benchmarks.read_models --events 1000000`) less the
# read of its topics (measured apart), then calibrated so that the sums match the groups' own measured
# times. The audit trail decodes nothing but reads every event for its whole group: that read is in its
# cost. The customer service board's events are the customer 360's, decoded once for both in a group:
# only its fold is counted. With these, two workers get customer 360, the audit trail and the service
# board (in 17-19 s) and the rest (18-19 s) over 2 workers on 2 cores; the collaboration board with the
# first group instead, or the service board with the second, made no split faster. Only proportions
# matter. A projection not listed weighs as the cheapest one listed.
FOLD_COST = {
    "customer360": 9.7,
    "funnel": 7.3,
    "ledger": 6.7,
    "audit": 5.0,
    "collaboration": 1.0,
    "service": 0.3,
}
_EXIT_SECONDS = 30.0
_OPEN_SECONDS = 60.0


class RebuildFailed(RuntimeError):
    """A worker process stopped before its projections reached the head."""


def partition(names: Sequence[str], workers: int) -> list[list[str]]:
    """At most `workers` groups of projections of about equal cost, the costliest placed first, each
    into the cheapest group so far; order within a group follows `names`."""
    if workers < 1:
        raise ValueError("workers: must be at least 1")
    unknown = min(FOLD_COST.values())
    groups: list[list[str]] = [[] for _ in range(min(workers, len(names)))]
    costs = [0.0] * len(groups)
    for name in sorted(names, key=lambda n: -FOLD_COST.get(n, unknown)):
        cheapest = costs.index(min(costs))
        groups[cheapest].append(name)
        costs[cheapest] += FOLD_COST.get(name, unknown)
    order = {name: index for index, name in enumerate(names)}
    return [sorted(group, key=order.__getitem__) for group in groups if group]


def parallel_store(settings: Settings) -> bool:
    return settings.database_url.startswith(("postgresql://", "postgres://"))


def _rebuild_group(
    settings: Settings, names: list[str], batch_size: int, opening: Lock, reports: Connection
) -> None:
    """A worker process's whole life: its own store, its group rebuilt in one pass, reports sent."""
    # No cyclic collection in the worker's whole life, not only while it folds (`gc_quiet`): turned
    # back on at the end of the fold, the collector's first pass walked every object the fold left
    # (0.5 s over 1M events), and the process ends right after without freeing anything.
    gc.disable()
    try:
        # Opening a store runs the library's CREATE ... statements, which PostgreSQL refuses to run
        # for the same catalog entries in two sessions at once (a duplicate type, "tuple concurrently
        # updated"): workers open theirs one at a time, and fold side by side. A worker that died
        # holding the turn delays the others by _OPEN_SECONDS, no more.
        turn = opening.acquire(timeout=_OPEN_SECONDS)
        try:
            store = open_store(settings.database_url)
            members = [projection(store, settings, name, batch_size) for name in names]
        finally:
            if turn:
                opening.release()
        try:
            group = ProjectionGroup(store, members, batch_size)
            position = group.rebuild(lambda done, _: reports.send(("progress", done, "")))
        finally:
            store.close()
    except BaseException:
        reports.send(("failed", 0, traceback.format_exc()))
        raise
    reports.send(("done", position, ""))
    reports.close()
    # Everything is saved and closed: the process ends now. The interpreter's own exit would walk the
    # whole folded state once more (the collection at shutdown) and free it object by object, for
    # nothing; the parent waits for it (over 1,006,478 events, 2 s between the last save and the end).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@dataclass
class ParallelRebuild:
    """`projections rebuild` of several projections over `workers` processes (PostgreSQL)."""

    settings: Settings
    names: Sequence[str]
    batch_size: int = REBUILD_BATCH_SIZE
    workers: int = 2
    groups: list[list[str]] = field(init=False)
    processes: list[BaseProcess] = field(init=False, default_factory=list)
    # Where each group's worker last reported its projections saved (its own progress).
    reached: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.groups = partition(self.names, self.workers)

    def run(self, head: int, on_progress: Progress | None = None) -> int:
        """Every group rebuilt, each in its process; the lowest position they reached. `head` is only
        for progress: each worker folds up to the store's head when it starts."""
        # Workers opening a store whose tables are missing would create them at once, which PostgreSQL
        # refuses ("tuple concurrently updated"): they are created here first.
        store = open_store(self.settings.database_url)
        try:
            open_doc_view(store)
            open_ledger_view(store)
        finally:
            store.close()
        # Spawned, not forked: a forked child would inherit this process's open connections.
        context = multiprocessing.get_context("spawn")
        # A pipe per worker, not one shared queue: a worker killed while writing to a shared queue
        # would leave its lock held and every other worker blocked on its next report.
        readers: list[Connection] = []
        opening = context.Lock()
        self.processes = []
        try:
            for group in self.groups:
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_rebuild_group,
                    args=(self.settings, group, self.batch_size, opening, sender),
                    name=f"rebuild-{'+'.join(group)}",
                    daemon=True,
                )
                process.start()
                # Only the worker holds the sending end now: when it dies, its pipe ends.
                sender.close()
                readers.append(receiver)
                self.processes.append(process)
            position = self._watch(readers, head, on_progress)
        except BaseException:
            # Interrupted, or a worker failed: the others stop too, at their last saved batch.
            for worker in self.processes:
                if worker.is_alive():
                    worker.terminate()
            raise
        finally:
            for worker in self.processes:
                # A worker that reported the end of its rebuild is only exiting.
                worker.join(_EXIT_SECONDS)
                if worker.is_alive():
                    worker.terminate()
                    worker.join()
            for reader in readers:
                reader.close()
        return position

    def _watch(self, readers: list[Connection], head: int, on_progress: Progress | None) -> int:
        reached = self.reached = [0] * len(self.groups)
        finished: dict[int, int] = {}
        failures: dict[int, str] = {}
        listening = dict(enumerate(readers))
        while listening:
            ready = wait(list(listening.values()))
            for index, reader in list(listening.items()):
                if reader not in ready:
                    continue
                try:
                    kind, position, detail = reader.recv()
                except (EOFError, OSError):
                    del listening[index]
                    if index not in finished and index not in failures:
                        worker = self.processes[index]
                        worker.join(_EXIT_SECONDS)
                        failures[index] = f"the worker process exited with code {worker.exitcode}"
                    continue
                if kind == "progress":
                    reached[index] = position
                    if on_progress is not None:
                        on_progress(min(reached), head)
                elif kind == "done":
                    reached[index] = finished[index] = position
                else:
                    failures[index] = detail
        if failures:
            last_lines = {i: failures[i].strip().splitlines()[-1] for i in failures}
            stopped = "; ".join(f"{', '.join(self.groups[i])}: {last_lines[i]}" for i in sorted(failures))
            raise RebuildFailed(
                f"rebuild stopped before the head for {stopped}. What each saved is kept: "
                "`salesledger projections run` (or rebuild again) goes on from there."
            )
        lowest = min(finished.values())
        if on_progress is not None:
            on_progress(lowest, head)
        return lowest
