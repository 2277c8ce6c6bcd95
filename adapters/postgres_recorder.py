from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier


class LockedFunctionRecorder(PostgresApplicationRecorder):
    """The library's recorder, inserting through one server-side function call per save.

    The library's own function option skips its table lock, so two writers could commit
    notification ids out of order and a projection reading by position could step over one.
    This function takes the same EXCLUSIVE lock first: ids stay gap-free in commit order,
    and a save costs one round trip instead of a lock, an insert, a notify and a fetch.
    """

    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.locked_function_name = f"salesledger_insert_columns_{datastore.originator_id_type}"
        schema = Identifier(datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids uuid[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN"
                "  SET LOCAL lock_timeout = '{lock_timeout}s';"
                "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
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
        self.sql_invoke_locked_function = SQL("SELECT * FROM {schema}.{function}(%s, %s, %s, %s)").format(
            schema=schema, function=Identifier(self.locked_function_name)
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # Four plain arrays sent in binary: far cheaper to encode than an array of composites.
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql_invoke_locked_function, columns, prepare=True, binary=True)
            return [row[self.locked_function_name] for row in curs.fetchall()]
