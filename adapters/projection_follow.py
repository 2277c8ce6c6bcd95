"""Waiting for new events: PostgreSQL says so (LISTEN on the store's channel); SQLite cannot, so poll."""

from __future__ import annotations

import time
from typing import Any, cast

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from commands.store import EventStore


class EventWaiter:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.connection: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> None:
        """Returns when events may have been written, or after `timeout` seconds at the latest."""
        recorder = self.store.recorder
        if not isinstance(recorder, PostgresApplicationRecorder):
            time.sleep(timeout)
            return
        if self.connection is None or self.connection.closed:
            settings = cast("dict[str, Any]", recorder.datastore.pool.kwargs)
            keys = ("dbname", "host", "port", "user", "password")
            self.connection = psycopg.connect(
                **{k: settings[k] for k in keys if k in settings}, autocommit=True
            )
            self.connection.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
        for _ in self.connection.notifies(timeout=timeout, stop_after=1):
            break

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
