"""Reading the next batch of notifications on another thread while this one folds: the database runs
the query and sends the rows while the fold works, instead of the fold waiting for it each batch.
The next batch starts where this one ends, which is known as soon as this one is read."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from eventsourcing.persistence import Notification

from commands.store import EventStore

Read = Callable[[int], list[Notification]]


def read_batch(
    store: EventStore, start: int, head: int, limit: int, topics: tuple[str, ...]
) -> list[Notification]:
    """Up to `limit` notifications after `start` and up to `head`, of these topics (all if none)."""
    return list(
        store.recorder.select_notifications(
            start=start, limit=limit, stop=head, topics=topics, inclusive_of_start=False
        )
    )


class ReadAhead:
    def __init__(self, reader: ThreadPoolExecutor, read: Read) -> None:
        self._reader = reader
        self._read = read
        self._ahead: tuple[int, Future[list[Notification]]] | None = None

    def take(self, start: int) -> list[Notification]:
        """The batch after `start`: the one read ahead if it starts there (a fold that reloaded its
        state may start elsewhere), else read now."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == start:
            return ahead[1].result()
        return self._read(start)

    def prefetch(self, start: int) -> None:
        self._ahead = (start, self._reader.submit(self._read, start))
