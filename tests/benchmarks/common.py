"""What the replay benchmarks share: a scratch store filled with a simulated history through the bulk
import path, vacuumed before anything is timed, and the raw read-and-decode rate every replay figure
is compared with."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from adapters.bootstrap import system_clock
from adapters.gc_quiet import quiet_gc
from adapters.persistence import open_store
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_json_line
from commands.store import EventStore
from tests.benchmarks.write_path import SERVER, scratch_schema

# Events written per simulated deal with 100 reps over 12 months, command receipts included
# (measured: 26,667 deals give 951,310 events); a run reports the exact count it got.
EVENTS_PER_DEAL = 35.7


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def deals_for(events: int) -> int:
    return max(1, round(events / EVENTS_PER_DEAL))


def store_url(db: str, schema: str | None, directory: str | None) -> str:
    """The URL another process (or thread with its own connections) opens the same scratch store by."""
    if db == "sqlite":
        return f"sqlite:///{Path(directory or '') / 'events.db'}"
    return f"{SERVER}?schema={schema}"


@contextmanager
def scratch_store(db: str) -> Iterator[tuple[EventStore, str | None]]:
    """A new empty store, dropped afterwards, with its PostgreSQL schema (None for SQLite)."""
    with scratch_location(db) as (url, schema):
        store = open_store(url)
        try:
            yield store, schema
        finally:
            store.close()


@contextmanager
def scratch_location(db: str) -> Iterator[tuple[str, str | None]]:
    """The URL of a new empty store, dropped afterwards, with its PostgreSQL schema (None for SQLite)."""
    if db == "sqlite":
        directory = tempfile.mkdtemp(prefix="salesledger_bench_")
        try:
            yield store_url(db, None, directory), None
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    with scratch_schema() as schema:
        yield store_url(db, schema, None), schema


def settle(schema: str | None, tables: tuple[str, ...] = ("salesledger_events",)) -> None:
    """Vacuums freshly filled (or emptied) tables so autovacuum and first-read hint-bit writes do not
    land in (and skew) whichever timed path happens to read or write them next."""
    if schema is None:
        return
    started = time.perf_counter()
    with psycopg.connect(SERVER, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"vacuum (analyze) {schema}.{table}")
    log(f"settle: vacuum analyze in {time.perf_counter() - started:.1f} s")


def fill(store: EventStore, deals: int, reps: int, months: int, seed: int, batch_size: int) -> dict[str, Any]:
    """Imports a simulated history the way `salesledger import` does (JSON line, parse, bulk save)."""
    executor = Executor(store, Context(clock=system_clock))
    counts = {"commands": 0, "refused": 0}

    def commands() -> Iterator[Any]:
        for data in simulate(reps=reps, deals=deals, months=months, seed=seed):
            try:
                yield parse_json_line(json.dumps(data, separators=(",", ":"), ensure_ascii=False))
            except InvalidCommand as invalid:
                yield invalid

    started = last = time.perf_counter()
    for outcome in executor.execute_many(commands(), batch_size):
        counts["commands"] += 1
        if outcome.status in ("refused", "blocked"):
            counts["refused"] += 1
        now = time.perf_counter()
        if now - last >= 5:
            last = now
            events = store.recorder.max_notification_id() or 0
            log(f"fill: {counts['commands']} commands, {events} events, {now - started:.0f} s")
    elapsed = time.perf_counter() - started
    events = store.recorder.max_notification_id() or 0
    log(f"fill: done, {counts['commands']} commands, {events} events in {elapsed:.1f} s")
    return {**counts, "events": events, "seconds": round(elapsed, 2), "events_per_s": round(events / elapsed)}


def raw_read(store: EventStore, batch_size: int, counted: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every notification, no topic filter, read in batches and decoded: the floor any replay stands on.
    `counted` is the number of events with one of the topics given."""
    # Under the garbage-collector regime the projections fold under, so that the two compare.
    with quiet_gc():
        return _raw_read(store, batch_size, counted)


def _raw_read(store: EventStore, batch_size: int, counted: frozenset[str]) -> dict[str, Any]:
    recorder, mapper = store.recorder, store.mapper
    started = time.perf_counter()
    head = recorder.max_notification_id() or 0
    position = decoded = matching = 0
    while position < head:
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, inclusive_of_start=False
        )
        for notification in notifications:
            mapper.to_domain_event(notification)
            matching += notification.topic in counted
        decoded += len(notifications)
        position = notifications[-1].id if len(notifications) == batch_size else head
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "decoded": decoded, "counted": matching}


def rate(events: int, seconds: float) -> int:
    return round(events / seconds) if seconds > 0 else 0


def ratio(value: int, raw: int) -> float | None:
    return round(value / raw, 3) if raw else None
