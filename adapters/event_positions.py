"""Stored events of given aggregates with their positions in the store (notification ids): what the
library's `select_events` reads, plus the position, which a trail needs to find each event's link in
the audit chain. One indexed query on either store."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from commands.store import EventStore


def events_with_positions(store: EventStore, originators: Sequence[UUID], upto: int) -> list[Notification]:
    """Every event of these aggregates at a position up to `upto`, in store order."""
    if not originators:
        return []
    recorder = store.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%s) AND notification_id <= %s ORDER BY notification_id"
        ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (list(originators), upto))
            rows = curs.fetchall()
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in rows
        ]
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ", ".join("?" * len(originators))
        table = recorder.events_table_name
        query = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
            f"WHERE originator_id IN ({marks}) AND rowid <= ? ORDER BY rowid"
        )
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(query, [*(o.hex for o in originators), upto])
            found = c.fetchall()
        return [
            Notification(
                id=row["rowid"],
                originator_id=recorder.convert_originator_id(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in found
        ]
    raise TypeError(f"recorder: {type(recorder).__name__} is not a store this service runs on")
