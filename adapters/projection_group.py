"""Several projections folded in one pass over the store: each batch of notifications is read and
decoded once and handed to every projection that wants it, instead of once per projection.

Rebuilding every projection one after the other reads and decodes the whole history once for each of
them (the audit trail alone takes every event); in one pass, decoding is paid once. Each projection
still folds only its topics after its own position, and still saves each batch with its tracking
position in one transaction, so a group that stops anywhere leaves every projection where a lone
runner would have. The batch's writes run on another thread while the next batch folds.

If a save finds another process already tracked a projection further (IntegrityError), the pass stops,
every projection reloads its saved state, and each catches up alone: what they saved is consistent, and
the lone runner knows how to go on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Protocol

import structlog
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.catch_up_pipeline import Progress, fold_threads
from adapters.event_decoder import EventDecoder
from adapters.projection_runner import Shared
from adapters.read_ahead import ReadAhead, Stored, read_batch
from commands.store import EventStore

log = structlog.get_logger(__name__)


class Member(Protocol):
    name: str
    position: int

    @property
    def topics(self) -> tuple[str, ...]: ...

    @property
    def decodes(self) -> bool: ...

    def fold_shared(self, items: Sequence[Shared], end: int) -> Callable[[], None]: ...

    def reload(self) -> None: ...

    def reset(self) -> None: ...

    def catch_up(self) -> int: ...


def _write_all(writes: list[Callable[[], None]]) -> None:
    for write in writes:
        write()


class ProjectionGroup:
    def __init__(self, store: EventStore, members: Sequence[Member], batch_size: int = 2000) -> None:
        if not members:
            raise ValueError("members: a group needs at least one projection")
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.store = store
        self.members = list(members)
        self.batch_size = batch_size
        self.decoder = EventDecoder(store.mapper)
        # One read serves them all: every topic if one of them reads every event.
        wanted = [member.topics for member in self.members]
        self.topics: tuple[str, ...] | None = (
            None if any(not topics for topics in wanted) else tuple(sorted({t for ts in wanted for t in ts}))
        )
        # Decoded once for all, but only the topics of the projections that need events decoded.
        decoding = [member.topics for member in self.members if member.decodes]
        self._decode_all = any(not topics for topics in decoding)
        self._decoded_topics = frozenset(t for ts in decoding for t in ts)

    @property
    def position(self) -> int:
        return min(member.position for member in self.members)

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def reload(self) -> None:
        for member in self.members:
            member.reload()

    def rebuild(self, on_progress: Progress | None = None) -> int:
        """Every member from empty. On PostgreSQL the first batch is read while the members' saved
        documents are deleted (over 1M events, 0.3-0.8 s each); SQLite takes one at a time."""
        overlap = isinstance(self.store.recorder, PostgresApplicationRecorder)
        if not overlap:
            for member in self.members:
                member.reset()
        return self._catch_up(on_progress, reset_while_reading=overlap)

    def catch_up(self, on_progress: Progress | None = None) -> int:
        return self._catch_up(on_progress, reset_while_reading=False)

    def _catch_up(self, on_progress: Progress | None, reset_while_reading: bool) -> int:
        head = self.head()
        try:
            with fold_threads("group") as (writer, reader):
                ahead = ReadAhead(reader, partial(self._read, head=head))
                if reset_while_reading:
                    ahead.prefetch(0)
                    for member in self.members:
                        member.reset()
                self._pass(head, writer, ahead, on_progress)
        except IntegrityError:
            log.warning("projection_group.tracked_elsewhere", members=[m.name for m in self.members])
            self.reload()
            for member in self.members:
                member.catch_up()
        except BaseException:
            # What was folded but not saved is lost: every projection starts again from what it saved.
            self.reload()
            raise
        return self.position

    def _read(self, start: int, head: int) -> Sequence[Stored]:
        return read_batch(self.store, start, head, self.batch_size, self.topics or ())

    def _pass(
        self, head: int, writer: ThreadPoolExecutor, ahead: ReadAhead, on_progress: Progress | None
    ) -> None:
        writing: Future[None] | None = None
        written = self.position
        while (start := self.position) < head:
            notifications = ahead.take(start)
            full = len(notifications) == self.batch_size
            end = notifications[-1].id if full else head
            if full:
                ahead.prefetch(end)
            if self._decode_all:
                items = [(notification, self._decoded(notification)) for notification in notifications]
            else:
                topics = self._decoded_topics
                items = [(n, self._decoded(n) if n.topic in topics else None) for n in notifications]
            writes = [member.fold_shared(items, end) for member in self.members if member.position < end]
            if writing is not None:
                writing.result()
                if on_progress is not None:
                    on_progress(written, head)
            writing, written = writer.submit(_write_all, writes), end
        if writing is not None:
            writing.result()
            if on_progress is not None:
                on_progress(written, head)

    def _decoded(self, notification: Stored) -> object | None:
        try:
            return self.decoder.decode(notification)
        except Exception:  # each projection decodes it again itself, and parks it or halts, as alone
            return None
