"""Read-model documents and parked events, saved with each projection's tracking position."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from projections.read_model import DocChange, Document

_TABLES = (
    "CREATE TABLE IF NOT EXISTS {docs} (projection TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, "
    "part TEXT NOT NULL, sort TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (projection, kind, key))",
    "CREATE INDEX IF NOT EXISTS {docs_by_part} ON {docs} (projection, kind, part, sort)",
    "CREATE TABLE IF NOT EXISTS {parked} (projection TEXT NOT NULL, position BIGINT NOT NULL, "
    "event_id TEXT NOT NULL, topic TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "PRIMARY KEY (projection, position))",
)
_UPSERT = (
    "INSERT INTO {docs} (projection, kind, key, part, sort, doc) VALUES ({p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (projection, kind, key) DO UPDATE SET part = excluded.part, sort = excluded.sort, "
    "doc = excluded.doc"
)
_DELETE = "DELETE FROM {docs} WHERE projection = {p} AND kind = {p} AND key = {p}"
_PARK = (
    "INSERT INTO {parked} (projection, position, event_id, topic, error, attempts) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (projection, position) DO NOTHING"
)
_CLEAR = ("DELETE FROM {docs} WHERE projection = {p}", "DELETE FROM {parked} WHERE projection = {p}")
_GET = "SELECT doc FROM {docs} WHERE projection = {p} AND kind = {p} AND key = {p}"
_KIND = "SELECT key, doc FROM {docs} WHERE projection = {p} AND kind = {p} ORDER BY key"
_PART = (
    "SELECT key, doc FROM {docs} WHERE projection = {p} AND kind = {p} AND part = {p} "
    "AND sort >= {p} AND sort < {p} ORDER BY sort, key"
)
_PAGE = (
    "SELECT key, doc FROM {docs} WHERE projection = {p} AND kind = {p} AND key > {p} ORDER BY key LIMIT {p}"
)
_STATE = "SELECT kind, key, doc FROM {docs} WHERE projection = {p} AND kind IN ({kinds}) ORDER BY kind, key"
_ALL = "SELECT kind, key, part, sort, doc FROM {docs} WHERE projection = {p} ORDER BY kind, key"
_PARKED = (
    "SELECT position, event_id, topic, error, attempts FROM {parked} WHERE projection = {p} ORDER BY position"
)
# Sorts after every sort key a read model writes (ISO dates and times, zero-padded numbers).
SORT_END = "\uffff"

Parked = tuple[int, str, str, str, int]
Row = tuple[str, str, str, str, str]


def tracking_name(projection: str) -> str:
    return f"salesledger.{projection}"


class DocView(Protocol):
    """Where read models live; one per store, shared by every projection in it."""

    def position(self, projection: str) -> int: ...

    def save(
        self, projection: str, changes: Sequence[DocChange], parked: Sequence[Parked], position: int
    ) -> None:
        """One transaction; raises IntegrityError if the projection was already tracked this far."""

    def reset(self, projection: str) -> None: ...

    def state(self, projection: str, kinds: Sequence[str]) -> Iterator[tuple[str, str, Document]]: ...

    def get(self, projection: str, kind: str, key: str) -> Document | None: ...

    def kind(self, projection: str, kind: str) -> list[tuple[str, Document]]: ...

    def part(
        self, projection: str, kind: str, part: str, since: str = "", until: str = SORT_END
    ) -> list[tuple[str, Document]]: ...

    def page(self, projection: str, kind: str, after: str, limit: int) -> list[tuple[str, Document]]: ...

    def everything(self, projection: str) -> list[Row]: ...

    def parked(self, projection: str) -> list[Parked]: ...


def _rows(projection: str, changes: Sequence[DocChange]) -> tuple[list[Any], list[Any]]:
    upserts = [
        (projection, c.kind, c.key, c.part, c.sort, json.dumps(c.doc, sort_keys=True, ensure_ascii=False))
        for c in changes
        if c.doc is not None
    ]
    deletes = [(projection, c.kind, c.key) for c in changes if c.doc is None]
    return upserts, deletes


class _Queries:
    """Reads shared by both stores; each store says how to run a select."""

    def _select(self, template: str, *params: Any, kinds: int = 0) -> list[Sequence[Any]]:
        raise NotImplementedError

    def state(self, projection: str, kinds: Sequence[str]) -> Iterator[tuple[str, str, Document]]:
        if not kinds:
            return
        for kind, key, doc in self._select(_STATE, projection, *kinds, kinds=len(kinds)):
            yield kind, key, json.loads(doc)

    def get(self, projection: str, kind: str, key: str) -> Document | None:
        rows = self._select(_GET, projection, kind, key)
        return json.loads(rows[0][0]) if rows else None

    def kind(self, projection: str, kind: str) -> list[tuple[str, Document]]:
        return [(key, json.loads(doc)) for key, doc in self._select(_KIND, projection, kind)]

    def part(
        self, projection: str, kind: str, part: str, since: str = "", until: str = SORT_END
    ) -> list[tuple[str, Document]]:
        rows = self._select(_PART, projection, kind, part, since, until)
        return [(key, json.loads(doc)) for key, doc in rows]

    def page(self, projection: str, kind: str, after: str, limit: int) -> list[tuple[str, Document]]:
        """Documents of a kind in key order, `limit` at a time after the key given."""
        return [(key, json.loads(doc)) for key, doc in self._select(_PAGE, projection, kind, after, limit)]

    def everything(self, projection: str) -> list[Row]:
        return [(r[0], r[1], r[2], r[3], r[4]) for r in self._select(_ALL, projection)]

    def parked(self, projection: str) -> list[Parked]:
        return [(int(r[0]), r[1], r[2], r[3], int(r[4])) for r in self._select(_PARKED, projection)]


class SQLiteDocView(_Queries, SQLiteTrackingRecorder):
    def _sql(self, template: str, kinds: int = 0) -> str:
        return template.format(
            p="?",
            docs="read_docs",
            parked="read_parked",
            docs_by_part="read_docs_by_part",
            kinds=", ".join("?" * kinds),
        )

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self._sql(t) for t in _TABLES)]

    def position(self, projection: str) -> int:
        return self.max_tracking_id(tracking_name(projection)) or 0

    def save(
        self, projection: str, changes: Sequence[DocChange], parked: Sequence[Parked], position: int
    ) -> None:
        upserts, deletes = _rows(projection, changes)
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, Tracking(tracking_name(projection), position))
            c.executemany(self._sql(_UPSERT), upserts)
            c.executemany(self._sql(_DELETE), deletes)
            c.executemany(self._sql(_PARK), [(projection, *row) for row in parked])

    def reset(self, projection: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            for statement in _CLEAR:
                c.execute(self._sql(statement), (projection,))
            c.execute("DELETE FROM tracking WHERE application_name = ?", (tracking_name(projection),))

    def _select(self, template: str, *params: Any, kinds: int = 0) -> list[Sequence[Any]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self._sql(template, kinds), params)
            return list(c.fetchall())


class PostgresDocView(_Queries, PostgresTrackingRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(self._sql(t) for t in _TABLES)

    def _sql(self, template: str, kinds: int = 0) -> Any:
        schema = self.datastore.schema
        text = template.format(
            p="%s",
            docs=Identifier(schema, "read_docs").as_string(),
            parked=Identifier(schema, "read_parked").as_string(),
            docs_by_part="read_docs_by_part",
            kinds=", ".join(["%s"] * kinds),
        )
        return SQL(text).format()

    def position(self, projection: str) -> int:
        return self.max_tracking_id(tracking_name(projection)) or 0

    def save(
        self, projection: str, changes: Sequence[DocChange], parked: Sequence[Parked], position: int
    ) -> None:
        upserts, deletes = _rows(projection, changes)
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, Tracking(tracking_name(projection), position))
            for template, rows in (
                (_UPSERT, upserts),
                (_DELETE, deletes),
                (_PARK, [(projection, *row) for row in parked]),
            ):
                if rows:
                    curs.executemany(self._sql(template), rows)

    def reset(self, projection: str) -> None:
        tracking = Identifier(self.datastore.schema, self.tracking_table_name)
        with self.datastore.transaction(commit=True) as curs:
            for statement in _CLEAR:
                curs.execute(self._sql(statement), (projection,))
            curs.execute(
                SQL("DELETE FROM {0} WHERE application_name = %s").format(tracking),
                (tracking_name(projection),),
            )

    def _select(self, template: str, *params: Any, kinds: int = 0) -> list[Sequence[Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(template, kinds), params)
            return [tuple(row.values()) for row in curs.fetchall()]
