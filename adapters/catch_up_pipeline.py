"""A catch-up in three overlapping parts: the next batch is read on one thread while this one folds,
and the batch before is written on another, so the database's work and its commits overlap with the
fold's. Shared by the read models' runner, the ledger and groups of them.

A batch is encoded before its write is handed over (the fold goes on changing the documents it came
from), and the next one only once the one before is saved. A save that finds another process tracked
that far already (IntegrityError) reloads the saved state, and the fold goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Protocol

from eventsourcing.persistence import IntegrityError

from adapters.gc_quiet import quiet_gc
from adapters.gil_handoff import prompt_handoff
from adapters.read_ahead import ReadAhead, Stored

Progress = Callable[[int, int], None]
Write = Callable[[], None]


@contextmanager
def fold_threads(prefix: str) -> Iterator[tuple[ThreadPoolExecutor, ThreadPoolExecutor]]:
    """A writer and a reader thread, with the collector quiet and the interpreter lock handed over
    promptly (`gc_quiet`, `gil_handoff`) while they run."""
    with (
        quiet_gc(),
        prompt_handoff(),
        ThreadPoolExecutor(1, thread_name_prefix=f"{prefix}-save") as writer,
        ThreadPoolExecutor(1, thread_name_prefix=f"{prefix}-read") as reader,
    ):
        yield writer, reader


class Pipelined(Protocol):
    name: str
    position: int
    batch_size: int
    # Set when a catch-up failed: what it folded but did not save is lost, so the next one reloads.
    stale: bool

    def head(self) -> int: ...

    def read(self, start: int, head: int) -> Sequence[Stored]:
        """Up to `batch_size` notifications after `start`, up to `head`, of the topics it folds."""

    def fold(self, notifications: Sequence[Stored], position: int, save: bool) -> Write | None:
        """Folds a batch; when saving, returns the write of it with `position`, encoded already."""

    def reload(self) -> None: ...


def catch_up(
    target: Pipelined, save: bool = True, on_progress: Progress | None = None, max_batches: int | None = None
) -> int:
    """Folds up to the store's head (or `max_batches` batches); the position reached."""
    if target.stale:
        target.reload()
    try:
        return _catch_up(target, save, on_progress, max_batches)
    except BaseException:
        target.stale = True
        raise


def _catch_up(target: Pipelined, save: bool, on_progress: Progress | None, max_batches: int | None) -> int:
    head = target.head()
    batches = 0
    writing: tuple[Future[None], int] | None = None
    write: Write | None = None
    position = target.position
    with fold_threads(target.name) as (writer, reader):
        ahead = ReadAhead(reader, partial(target.read, head=head))
        while True:
            more = target.position < head and (max_batches is None or batches < max_batches)
            if more:
                batches += 1
                notifications = ahead.take(target.position)
                full = len(notifications) == target.batch_size
                position = notifications[-1].id if full else head
                if full and (max_batches is None or batches < max_batches):
                    ahead.prefetch(position)
                write = target.fold(notifications, position, save)
            if writing is not None:
                (written, at), writing = writing, None
                if not _saved(target, written, at, head, on_progress):
                    continue  # state reloaded: what was just folded is folded again from there
            if not more:
                return target.position
            if write is not None:
                writing = (writer.submit(write), position)
            elif on_progress is not None:
                on_progress(position, head)
            target.position = position


def _saved(
    target: Pipelined, writing: Future[None], at: int, head: int, on_progress: Progress | None
) -> bool:
    """Waits for the batch being written; False if another process had tracked that far already."""
    try:
        writing.result()
    except IntegrityError:
        target.reload()
        return False
    if on_progress is not None:
        on_progress(at, head)
    return True
