from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

_INT4 = struct.Struct("!i")
_INT8 = struct.Struct("!q")
# Each element is its size, then its bytes: for fixed sizes, the size joins the elements.
_UUID_SIZE = _INT4.pack(16)
_INT8_SIZE = _INT4.pack(8)


class _Array:
    """A one-dimensional array without nulls, already in PostgreSQL's binary format.

    psycopg adapts a Python list element by element in Python to find and apply a dumper for each;
    the column types here are fixed, so the whole array is packed at once instead.
    """

    element_oid: ClassVar[int]
    __slots__ = ("data",)

    def __init__(self, count: int, body: bytes) -> None:
        if count:
            self.data = struct.pack("!iiIii", 1, 0, self.element_oid, count, 1) + body
        else:
            self.data = struct.pack("!iiI", 0, 0, self.element_oid)

    @staticmethod
    def sized(elements: Sequence[bytes]) -> bytes:
        parts: list[bytes] = []
        for element in elements:
            parts.append(_INT4.pack(len(element)))
            parts.append(element)
        return b"".join(parts)


@lru_cache(maxsize=1024)
def _sized_text(text: str) -> bytes:
    # Topics: a few hundred distinct strings, each repeated in every batch.
    encoded = text.encode()
    return _INT4.pack(len(encoded)) + encoded


class _UUIDs(_Array):
    element_oid = 2950

    def __init__(self, ids: Sequence[UUID | str]) -> None:
        packed = [i.bytes if isinstance(i, UUID) else UUID(i).bytes for i in ids]
        super().__init__(len(ids), _UUID_SIZE + _UUID_SIZE.join(packed))


class _Int8s(_Array):
    element_oid = 20

    def __init__(self, numbers: Sequence[int]) -> None:
        super().__init__(len(numbers), _INT8_SIZE + _INT8_SIZE.join([_INT8.pack(n) for n in numbers]))


class _Texts(_Array):
    element_oid = 25

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__(len(texts), b"".join([_sized_text(t) for t in texts]))


class _Byteas(_Array):
    element_oid = 17

    def __init__(self, blobs: Sequence[bytes]) -> None:
        super().__init__(len(blobs), self.sized(blobs))


class _ArrayDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        data: bytes = obj.data
        return data


# Array type oids, as PostgreSQL fixes them: uuid[], bigint[], text[], bytea[].
class _UUIDsDumper(_ArrayDumper):
    oid = 2951


class _Int8sDumper(_ArrayDumper):
    oid = 1016


class _TextsDumper(_ArrayDumper):
    oid = 1009


class _ByteasDumper(_ArrayDumper):
    oid = 1001


psycopg.adapters.register_dumper(_UUIDs, _UUIDsDumper)
psycopg.adapters.register_dumper(_Int8s, _Int8sDumper)
psycopg.adapters.register_dumper(_Texts, _TextsDumper)
psycopg.adapters.register_dumper(_Byteas, _ByteasDumper)


class LockedFunctionRecorder(PostgresApplicationRecorder):
    """The library's recorder, inserting through one server-side function call per save.

    The library's own function option skips its table lock, so two writers could commit
    notification ids out of order and a projection reading by position could step over one.
    This function takes the same EXCLUSIVE lock first: ids stay gap-free in commit order,
    and a save costs one round trip instead of a lock, an insert, a notify and a fetch.

    Under that lock it can also confirm that aggregates a decision only read are still at the
    versions it read (`read_versions`, 0 for one found absent), so a writer may decide on its own
    copies of them instead of reloading each from the store first. A stale one fails the save
    like any other concurrent write, as a unique violation: the writer decides again afresh.
    """

    checks_reads = True

    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.locked_function_name = f"salesledger_insert_checked_{datastore.originator_id_type}"
        schema = Identifier(datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids uuid[], versions bigint[], topics text[], states bytea[], "
                "read_ids uuid[], read_versions bigint[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ DECLARE stale uuid; BEGIN"
                "  SET LOCAL lock_timeout = '{lock_timeout}s';"
                "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
                "  SELECT r.id INTO stale FROM unnest(read_ids, read_versions) AS r(id, version)"
                "    WHERE r.version <> coalesce((SELECT max(e.originator_version) FROM {schema}.{table} e"
                "      WHERE e.originator_id = r.id), 0) LIMIT 1;"
                "  IF stale IS NOT NULL THEN"
                "    RAISE unique_violation USING MESSAGE = format("
                "      'aggregate %s changed after it was read', stale);"
                "  END IF;"
                "  NOTIFY {channel};"
                "  RETURN QUERY INSERT INTO {schema}.{table} AS t"
                "    (originator_id, originator_version, topic, state)"
                "    SELECT * FROM unnest(ids, versions, topics, states)"
                "    RETURNING notification_id;"
                " END; $BODY$"
            ).format(
                schema=schema,
                function=Identifier(self.locked_function_name),
                lock_timeout=datastore.lock_timeout,
                table=Identifier(self.events_table_name),
                channel=Identifier(self.channel_name),
            )
        )
        self.sql_invoke_locked_function = SQL(
            "SELECT * FROM {schema}.{function}(%s, %s, %s, %s, %s, %s)"
        ).format(schema=schema, function=Identifier(self.locked_function_name))
        # Composed once: psycopg would compose the statement again on every save.
        self._invoke_bytes = self.sql_invoke_locked_function.as_bytes(None)

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        read_versions: Mapping[UUID, int] | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # Plain arrays sent in binary: far cheaper to encode than an array of composites.
        read = read_versions or {}
        columns = (
            _UUIDs([e.originator_id for e in stored_events]),
            _Int8s([e.originator_version for e in stored_events]),
            _Texts([e.topic for e in stored_events]),
            _Byteas([e.state for e in stored_events]),
            _UUIDs(list(read)),
            _Int8s(list(read.values())),
        )
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._invoke_bytes, columns, prepare=True, binary=True)
            return [row[0] for row in curs.fetchall()]
