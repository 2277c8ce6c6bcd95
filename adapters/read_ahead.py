"""Reading the next batch of notifications on another thread while this one folds: the database runs
the query and sends the rows while the fold works, instead of the fold waiting for it each batch.
The next batch starts where this one ends, which is known as soon as this one is read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import NamedTuple, Protocol
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Composed, Identifier

from commands.store import EventStore


class Stored(Protocol):
    """A notification as folds read it: `eventsourcing.persistence.Notification` or `StoredRow`."""

    @property
    def id(self) -> int: ...

    @property
    def originator_id(self) -> UUID | str: ...

    @property
    def originator_version(self) -> int: ...

    @property
    def topic(self) -> str: ...

    @property
    def state(self) -> bytes: ...


class StoredRow(NamedTuple):
    """A notification read by `read_batch` from PostgreSQL: a row as it comes (a tuple), the
    originator id in its text form, which is how every fold spells it."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


Read = Callable[[int], Sequence[Stored]]


def read_batch(
    store: EventStore, start: int, head: int, limit: int, topics: tuple[str, ...]
) -> Sequence[Stored]:
    """Up to `limit` notifications after `start` and up to `head`, of these topics (all if none).

    On PostgreSQL, with a query of its own: rows in binary, made into named tuples, the originator id
    sent as text. The library's `select_notifications` makes a dict, then a dataclass, of each row,
    and a UUID of each id that a fold turns back into text: it takes about three times as long
    (measured: 1.3 s against 0.5 s for 204,239 rows, `tests/benchmarks/read_models.py`).
    """
    recorder = store.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        return list(
            recorder.select_notifications(
                start=start, limit=limit, stop=head, topics=topics, inclusive_of_start=False
            )
        )
    statement = _select(recorder.datastore.schema, recorder.events_table_name, bool(topics))
    params: tuple[object, ...] = (start, head, list(topics), limit) if topics else (start, head, limit)
    with (
        recorder.datastore.get_connection() as conn,
        conn.cursor(row_factory=_stored_rows, binary=True) as curs,
    ):
        curs.execute(statement, params, prepare=True)
        return curs.fetchall()


def _stored_rows(_: object) -> Callable[[Sequence[object]], StoredRow]:
    return StoredRow._make


@cache
def _select(schema: str, table: str, by_topic: bool) -> Composed:
    return SQL(
        "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {}.{}"
        " WHERE notification_id > %s AND notification_id <= %s{} ORDER BY notification_id LIMIT %s"
    ).format(Identifier(schema), Identifier(table), SQL(" AND topic = ANY(%s)") if by_topic else SQL(""))


class ReadAhead:
    def __init__(self, reader: ThreadPoolExecutor, read: Read) -> None:
        self._reader = reader
        self._read = read
        self._ahead: tuple[int, Future[Sequence[Stored]]] | None = None

    def take(self, start: int) -> Sequence[Stored]:
        """The batch after `start`: the one read ahead if it starts there (a fold that reloaded its
        state may start elsewhere), else read now."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == start:
            return ahead[1].result()
        return self._read(start)

    def prefetch(self, start: int) -> None:
        self._ahead = (start, self._reader.submit(self._read, start))
