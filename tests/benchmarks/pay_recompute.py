"""Pay recompute benchmark: pay for every period rebuilt from a simulated history, next to the raw rate
at which the same store reads and decodes all its events, both measured in the same run.

    make bench            (or: python -m tests.benchmarks.pay_recompute --events 1000000 --db postgres)

The store is filled with `salesledger simulate` commands (through the bulk import path) until it holds
about --events events. Then, on the very same store:
  raw        every notification read in batches of --batch-size (no topic filter) and decoded into a
             domain event;
  recompute  `replay.recompute.recompute(store)`: a fresh ledger folded from the pay topics only, then
             the lines of every period;
  projection the persistent `LedgerProjection(store).catch_up()` from empty, saving as it goes.
The filled PostgreSQL table is vacuumed before anything is timed; raw and recompute then run --repeat
times, alternating, and the best of each is kept (memoised bonus decisions are forgotten before each
recompute and before the projection, so every path starts cold).
Every rate is events/s over ALL events in the store (max notification id) ÷ wall time, so the three
compare directly even though recompute and the projection only read the pay topics.
The target is a recompute at half the raw read rate or better (ratio >= 0.5).
"""

from __future__ import annotations

import argparse
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
from adapters.ledger_projection import LedgerProjection
from adapters.persistence import open_store
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_json_line
from commands.store import EventStore
from domain import expressions
from projections.pay_facts import PAY_TOPICS
from replay.recompute import recompute
from tests.benchmarks.write_path import SERVER, scratch_schema

# Events written per simulated deal with 100 reps over 12 months, command receipts included
# (measured: 26,667 deals give 951,310 events); the run reports the exact count it got.
EVENTS_PER_DEAL = 35.7
TARGET_RATIO = 0.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def scratch_store(db: str) -> Iterator[tuple[EventStore, str | None]]:
    """A new empty store, dropped afterwards, with its PostgreSQL schema (None for SQLite)."""
    if db == "sqlite":
        directory = tempfile.mkdtemp(prefix="pay_recompute_")
        store = open_store(f"sqlite:///{Path(directory) / 'events.db'}")
        try:
            yield store, None
        finally:
            store.close()
            shutil.rmtree(directory, ignore_errors=True)
        return
    with scratch_schema() as schema:
        store = open_store(f"{SERVER}?schema={schema}")
        try:
            yield store, schema
        finally:
            store.close()


def settle(schema: str | None) -> None:
    """Vacuums the freshly filled table so autovacuum and first-read hint-bit writes do not land in
    (and skew) whichever timed path happens to read first."""
    if schema is None:
        return
    started = time.perf_counter()
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"vacuum (analyze) {schema}.salesledger_events")
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


def raw_read(store: EventStore, batch_size: int) -> dict[str, Any]:
    """Every notification, no topic filter, read in batches and decoded: the floor any replay stands on."""
    recorder, mapper = store.recorder, store.mapper
    pay_topics = frozenset(PAY_TOPICS)
    started = time.perf_counter()
    head = recorder.max_notification_id() or 0
    position = decoded = pay = 0
    while position < head:
        notifications = recorder.select_notifications(
            start=position, limit=batch_size, stop=head, inclusive_of_start=False
        )
        for notification in notifications:
            mapper.to_domain_event(notification)
            pay += notification.topic in pay_topics
        decoded += len(notifications)
        position = notifications[-1].id if len(notifications) == batch_size else head
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "decoded": decoded, "pay_events": pay}


def forget_memos() -> None:
    """Each timed path starts cold: no bonus condition answered by an earlier path in this process."""
    expressions._evaluate.cache_clear()


def timed_recompute(store: EventStore, batch_size: int) -> dict[str, Any]:
    forget_memos()
    folded_at: list[float] = []

    def progress(position: int, head: int) -> None:
        if position >= head:
            folded_at.append(time.perf_counter())

    started = time.perf_counter()
    pay = recompute(store, batch_size, on_progress=progress)
    elapsed = time.perf_counter() - started
    fold = (folded_at[-1] - started) if folded_at else elapsed
    return {
        "seconds": elapsed,
        "fold_seconds": fold,
        "lines_seconds": elapsed - fold,
        "periods": len(pay),
        "lines": sum(len(lines) for lines in pay.values()),
    }


def timed_projection(store: EventStore) -> dict[str, Any]:
    forget_memos()
    projection = LedgerProjection(store)
    started = time.perf_counter()
    projection.catch_up()
    return {"seconds": time.perf_counter() - started, "batch_size": projection.batch_size}


def rate(events: int, seconds: float) -> int:
    return round(events / seconds) if seconds > 0 else 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    deals = max(1, round(args.events / EVENTS_PER_DEAL))
    with scratch_store(args.db) as (store, schema):
        log(f"fill: simulating {deals} deals ({args.reps} reps, {args.months} months, seed {args.seed})")
        filled = fill(store, deals, args.reps, args.months, args.seed, args.import_batch_size)
        settle(schema)
        events = filled["events"]
        raws, recomputes = [], []
        for repetition in range(args.repeat):
            log(f"run {repetition + 1}/{args.repeat}: raw read + decode")
            raws.append(raw_read(store, args.batch_size))
            log(f"run {repetition + 1}/{args.repeat}: recompute")
            recomputes.append(timed_recompute(store, args.batch_size))
        log("projection catch-up from empty")
        projection = timed_projection(store)
    raw = min(raws, key=lambda r: r["seconds"])
    best = min(recomputes, key=lambda r: r["seconds"])
    raw_rate = rate(events, raw["seconds"])
    recompute_rate = rate(events, best["seconds"])
    projection_rate = rate(events, projection["seconds"])
    return {
        "db": args.db,
        "events_requested": args.events,
        "history": {"reps": args.reps, "months": args.months, "deals": deals, "seed": args.seed},
        "fill": filled,
        "events_in_store": events,
        "rate_basis": "events/s = all events in the store (max notification id) / wall time",
        "repetitions": args.repeat,
        "raw_read_decode": {
            "batch_size": args.batch_size,
            "events_decoded": raw["decoded"],
            "pay_events": raw["pay_events"],
            "seconds": round(raw["seconds"], 2),
            "all_seconds": [round(r["seconds"], 2) for r in raws],
            "events_per_s": raw_rate,
        },
        "recompute": {
            "batch_size": args.batch_size,
            "periods": best["periods"],
            "lines": best["lines"],
            "seconds": round(best["seconds"], 2),
            "fold_seconds": round(best["fold_seconds"], 2),
            "lines_seconds": round(best["lines_seconds"], 2),
            "all_seconds": [round(r["seconds"], 2) for r in recomputes],
            "events_per_s": recompute_rate,
            "ratio_to_raw": round(recompute_rate / raw_rate, 3) if raw_rate else None,
            "target_ratio": TARGET_RATIO,
            "meets_target": raw_rate > 0 and recompute_rate / raw_rate >= TARGET_RATIO,
        },
        "projection_catch_up": {
            "batch_size": projection["batch_size"],
            "seconds": round(projection["seconds"], 2),
            "events_per_s": projection_rate,
            "ratio_to_raw": round(projection_rate / raw_rate, 3) if raw_rate else None,
        },
    }


def summary(results: dict[str, Any]) -> str:
    raw, rec, proj = results["raw_read_decode"], results["recompute"], results["projection_catch_up"]
    verdict = "meets" if rec["meets_target"] else "MISSES"
    rows = [
        ("raw read + decode", raw["seconds"], raw["events_per_s"], 1.0),
        ("recompute (all periods)", rec["seconds"], rec["events_per_s"], rec["ratio_to_raw"]),
        ("projection catch-up", proj["seconds"], proj["events_per_s"], proj["ratio_to_raw"]),
    ]
    out = [
        f"{results['events_in_store']:,} events in a {results['db']} store "
        f"({raw['pay_events']:,} of them pay events); {results['rate_basis']}",
        f"{'path':<26}{'seconds':>10}{'events/s':>12}{'ratio':>8}",
    ]
    out += [f"{name:<26}{secs:>10.2f}{per_s:>12,}{ratio:>8.3f}" for name, secs, per_s, ratio in rows]
    out.append(
        f"recompute: {rec['periods']} periods, {rec['lines']:,} lines; fold {rec['fold_seconds']} s, "
        f"lines {rec['lines_seconds']} s; {verdict} the target ratio {rec['target_ratio']}"
    )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many events in the store")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=5000, help="notifications per read")
    parser.add_argument("--import-batch-size", type=int, default=500, help="commands per fill transaction")
    parser.add_argument("--repeat", type=int, default=2, help="raw/recompute repetitions (best is kept)")
    args = parser.parse_args()
    results = run(args)
    print(json.dumps(results, indent=1))
    print(summary(results))


if __name__ == "__main__":
    main()
