"""Read-model documents and parked events, saved with each projection's tracking position."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from projections import json_text
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
# PostgreSQL takes a batch's documents as one array per column in one statement: a pipelined
# executemany costs a protocol message and a row of client-side work per document, and a rebuild
# writes one document or more per event. The arrays go in binary (%b): the text form escapes every
# element with a regular expression, slower than the executemany it replaces.
_UPSERT_ARRAYS = (
    "INSERT INTO {docs} (projection, kind, key, part, sort, doc) "
    "SELECT {p}, * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[]) "
    "ON CONFLICT (projection, kind, key) DO UPDATE SET part = excluded.part, sort = excluded.sort, "
    "doc = excluded.doc"
)
# A document a rebuild writes for the first time cannot be there yet: it is copied in (COPY), with no
# conflict check or update path, and with the rows formatted by psycopg's C code rather than element by
# element into arrays: for 100,000 documents, 0.10 CPU-s here and 0.57 in the server, against 0.30 and
# 0.80 for the arrays' insert.
_COPY = "COPY {docs} (projection, kind, key, part, sort, doc) FROM STDIN"
_DELETE_ARRAYS = (
    "DELETE FROM {docs} AS d USING unnest(%b::text[], %b::text[]) AS gone(kind, key) "
    "WHERE d.projection = {p} AND d.kind = gone.kind AND d.key = gone.key"
)
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

    def write(self, projection: str, batch: Encoded, parked: Sequence[Parked], position: int) -> None:
        """`save` of changes encoded beforehand."""

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


@dataclass(frozen=True)
class Encoded:
    """A batch's changes as the view stores them, text only: it can be written by another thread while
    the fold goes on changing the documents it came from."""

    upserts: list[tuple[str, str, str, str, str]]  # kind, key, part, sort, JSON document
    deletes: list[tuple[str, str]]  # kind, key


def encode(changes: Sequence[DocChange]) -> Encoded:
    upserts = [(c.kind, c.key, c.part, c.sort, json_text.dumps(c.doc)) for c in changes if c.doc is not None]
    return Encoded(upserts, [(c.kind, c.key) for c in changes if c.doc is None])


class _Queries:
    """Reads shared by both stores; each store says how to run a select."""

    def _select(self, template: str, *params: Any, kinds: int = 0) -> list[Sequence[Any]]:
        raise NotImplementedError

    def state(self, projection: str, kinds: Sequence[str]) -> Iterator[tuple[str, str, Document]]:
        if not kinds:
            return
        for kind, key, doc in self._select(_STATE, projection, *kinds, kinds=len(kinds)):
            yield kind, key, json_text.loads(doc)

    def get(self, projection: str, kind: str, key: str) -> Document | None:
        rows = self._select(_GET, projection, kind, key)
        return json_text.loads(rows[0][0]) if rows else None

    def kind(self, projection: str, kind: str) -> list[tuple[str, Document]]:
        return [(key, json_text.loads(doc)) for key, doc in self._select(_KIND, projection, kind)]

    def part(
        self, projection: str, kind: str, part: str, since: str = "", until: str = SORT_END
    ) -> list[tuple[str, Document]]:
        rows = self._select(_PART, projection, kind, part, since, until)
        return [(key, json_text.loads(doc)) for key, doc in rows]

    def page(self, projection: str, kind: str, after: str, limit: int) -> list[tuple[str, Document]]:
        """Documents of a kind in key order, `limit` at a time after the key given."""
        rows = self._select(_PAGE, projection, kind, after, limit)
        return [(key, json_text.loads(doc)) for key, doc in rows]

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
        self.write(projection, encode(changes), parked, position)

    def write(self, projection: str, batch: Encoded, parked: Sequence[Parked], position: int) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, Tracking(tracking_name(projection), position))
            c.executemany(self._sql(_UPSERT), [(projection, *row) for row in batch.upserts])
            c.executemany(self._sql(_DELETE), [(projection, *row) for row in batch.deletes])
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


# Documents are stored as they are, never compressed: a document is read whole, and compressing it costs
# server CPU at every write, for nothing on the audit trail's segments of hashes (random hex, 74 MB of
# them over 1,006,478 events; lz4 kept 71 MB). A rebuild of the audit trail over those events cost the
# server 3.0 CPU-s instead of 4.5 with pglz (3.2 with lz4). PostgreSQL 15 cannot say it in CREATE TABLE;
# the ALTER, which locks the table, runs only when the column is not so already.
_EXTERNAL = (
    "DO $$ BEGIN IF (SELECT attstorage FROM pg_attribute WHERE attrelid = '{docs}'::regclass "
    "AND attname = 'doc') <> 'e' THEN ALTER TABLE {docs} ALTER COLUMN doc SET STORAGE EXTERNAL; "
    "END IF; END $$"
)


class PostgresDocView(_Queries, PostgresTrackingRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(self._sql(t) for t in (*_TABLES, _EXTERNAL))
        # For each projection this view emptied (`reset`), the hashes of the documents it wrote since:
        # any other document of it is not in the table, so it is inserted, not upserted. Two keys of
        # the same hash only make the second one an upsert. Forgotten on a failed write, since the
        # table is then no longer known.
        self._written: dict[str, set[int]] = {}

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
        self.write(projection, encode(changes), parked, position)

    def write(self, projection: str, batch: Encoded, parked: Sequence[Parked], position: int) -> None:
        # One statement may not change a row twice: the last upsert of a key wins, as it did one by one.
        latest = {(row[0], row[1]): row for row in batch.upserts}
        written = self._written.pop(projection, None)
        new: list[tuple[str, str, str, str, str]] = []
        if written is not None:
            for key in list(latest):
                digest = hash(key)
                if digest not in written:
                    written.add(digest)
                    new.append(latest.pop(key))
        with self.datastore.transaction(commit=True) as curs:
            # A read model is derived from the store: if the server crashes before this commit reaches
            # the disk, the documents and the tracking position are lost together, and the fold resumes
            # from the position before. So the commit need not wait for the flush.
            curs.execute("SET LOCAL synchronous_commit TO OFF")
            self._insert_tracking(curs, Tracking(tracking_name(projection), position))
            if new:
                with curs.copy(self._sql(_COPY)) as copy:
                    for row in new:
                        copy.write_row((projection, *row))
            if latest:
                columns = [list(column) for column in zip(*latest.values(), strict=True)]
                curs.execute(self._sql(_UPSERT_ARRAYS), (projection, *columns))
            if batch.deletes:
                kinds, keys = [row[0] for row in batch.deletes], [row[1] for row in batch.deletes]
                curs.execute(self._sql(_DELETE_ARRAYS), (kinds, keys, projection))
            if parked:
                curs.executemany(self._sql(_PARK), [(projection, *row) for row in parked])
        if written is not None:
            self._written[projection] = written

    def reset(self, projection: str) -> None:
        self._written.pop(projection, None)
        tracking = Identifier(self.datastore.schema, self.tracking_table_name)
        with self.datastore.transaction(commit=True) as curs:
            for statement in _CLEAR:
                curs.execute(self._sql(statement), (projection,))
            curs.execute(
                SQL("DELETE FROM {0} WHERE application_name = %s").format(tracking),
                (tracking_name(projection),),
            )
        self._written[projection] = set()

    def _select(self, template: str, *params: Any, kinds: int = 0) -> list[Sequence[Any]]:
        # One statement on an autocommit connection is a transaction already: no BEGIN and ROLLBACK
        # round trips around it (a customer-360 answer is one or two of these).
        with self.datastore.cursor() as curs:
            curs.execute(self._sql(template, kinds), params)
            return [tuple(row.values()) for row in curs.fetchall()]
