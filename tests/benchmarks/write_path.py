"""Write-path benchmark on PostgreSQL, each figure next to a raw psycopg baseline in the same run.

    make bench            (or: python -m tests.benchmarks.write_path --commands 100000 --api 3000)

Raw baselines write the very rows the service wrote (read back from its table) into a plain table
of the same shape: single-row inserts one transaction each, and batched inserts of 100 rows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import psycopg

from adapters.bootstrap import system_clock
from adapters.persistence import open_store
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_json_line

SERVER = os.environ.get(
    "SALESLEDGER_TEST_POSTGRES_URL", "postgresql://salesledger:salesledger@127.0.0.1:5432/salesledger"
)


@contextmanager
def scratch_schema() -> Iterator[str]:
    schema = f"bench_{uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"drop schema {schema} cascade")


def history(commands: int, seed: int) -> list[str]:
    deals = max(1, commands * 10 // 175)
    lines = itertools.islice(simulate(reps=100, deals=deals, months=12, seed=seed), commands)
    return [json.dumps(data, separators=(",", ":"), ensure_ascii=False) for data in lines]


def parsed(lines: list[str]) -> Iterator[Any]:
    for line in lines:
        try:
            yield parse_json_line(line)
        except InvalidCommand as invalid:
            yield invalid


def stored_rows(schema: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(SERVER) as conn:
        return conn.execute(
            f"select originator_id, originator_version, topic, state from {schema}.salesledger_events "
            "order by notification_id"
        ).fetchall()


def raw_insert(rows: list[tuple[Any, ...]], per_transaction: int) -> float:
    with scratch_schema() as schema, psycopg.connect(SERVER) as conn:
        conn.execute(
            f"create table {schema}.raw_events (originator_id uuid not null, "
            "originator_version bigint not null, topic text not null, state bytea, "
            "notification_id bigserial, "
            "primary key (originator_id, originator_version))"
        )
        conn.commit()
        sql = (
            f"insert into {schema}.raw_events (originator_id, originator_version, topic, state) "
            "values (%s, %s, %s, %s)"
        )
        started = time.perf_counter()
        for start in range(0, len(rows), per_transaction):
            with conn.transaction(), conn.cursor() as cursor:
                chunk = rows[start : start + per_transaction]
                if len(chunk) == 1:
                    cursor.execute(sql, chunk[0])
                else:
                    cursor.executemany(sql, chunk)
        return time.perf_counter() - started


def bulk(commands: list[str], batch_size: int) -> dict[str, float]:
    """Times what `salesledger import` does: parse each JSON line, decide, save in batches."""
    with scratch_schema() as schema:
        store = open_store(f"{SERVER}?schema={schema}")
        executor = Executor(store, Context(clock=system_clock))
        started = time.perf_counter()
        outcomes = list(executor.execute_many(parsed(commands), batch_size))
        elapsed = time.perf_counter() - started
        store.close()
        rows = stored_rows(schema)
    raw = raw_insert(rows, 100)
    ours = len(rows) / elapsed
    baseline = len(rows) / raw
    return {
        "commands": len(commands),
        "refused": sum(1 for o in outcomes if o.status in ("refused", "blocked")),
        "events": len(rows),
        "seconds": round(elapsed, 2),
        "events_per_s": round(ours),
        "raw_batched_rows_per_s": round(baseline),
        "ratio": round(ours / baseline, 3),
    }


def api(lines: list[str], setup: int) -> dict[str, float]:
    """Times one command per transaction, as the HTTP API sends them (each parsed from JSON)."""
    with scratch_schema() as schema:
        store = open_store(f"{SERVER}?schema={schema}")
        executor = Executor(store, Context(clock=system_clock))
        list(executor.execute_many(parsed(lines[:setup])))
        timed = lines[setup:]
        started = time.perf_counter()
        for command in parsed(timed):
            if not isinstance(command, InvalidCommand):
                executor.execute(command)
        elapsed = time.perf_counter() - started
        store.close()
        rows = stored_rows(schema)[: len(timed)]
    raw = raw_insert(rows, 1)
    ours = len(timed) / elapsed
    baseline = len(rows) / raw
    return {
        "commands": len(timed),
        "seconds": round(elapsed, 2),
        "commands_per_s": round(ours),
        "raw_single_row_tx_per_s": round(baseline),
        "ratio": round(ours / baseline, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=100_000, help="size of the bulk import")
    parser.add_argument("--api", type=int, default=3000, help="commands sent one per request")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    commands = history(args.commands, args.seed)
    results = {
        "api_path": api(commands[: 2000 + args.api], setup=2000),
        "bulk_import": bulk(commands, args.batch_size),
    }
    if args.format == "json":
        print(json.dumps(results, indent=1))
        return
    for name, figures in results.items():
        print(name, "  ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
