"""Read-model benchmark: every projection rebuilt from a simulated history, next to the raw rate at which
the same store reads and decodes all its events, and the customer-360 query under concurrent clients,
all measured in the same run.

    python -m tests.benchmarks.read_models --events 1000000 [--db postgres|sqlite]

The store is filled with `salesledger simulate` commands (through the bulk import path) until it holds
about --events events, and vacuumed. Then, on the very same store:
  raw        every notification read in batches of --batch-size (no topic filter) by the store
             (`select_notifications`) and decoded by its mapper, twice before the rebuilds and once
             after (the best is kept): the baseline of every ratio; for comparison, the same read
             the way folds read (`adapters.read_ahead.read_batch`, a query of their own on PostgreSQL);
  rebuild    the ledger (`LedgerProjection.rebuild`) and every read model of `adapters.read_models`
             (`ProjectionRunner.rebuild`), each from empty in batches of --projection-batch-size (the
             `projections rebuild` default), one after another in this process; then all of them
             again in one pass (`ProjectionGroup`, as `projections rebuild --all` does), each event
             read and decoded once for all;
  customer   `adapters.customer_query.customer_360` for random customers, by --clients threads each
             with its own store and connections, for --seconds; latency p50/p99/max overall and for
             customers with and without orders.
Every rate is events/s over ALL events in the store (max notification id) ÷ wall time, so they compare
directly even though most projections read only their own topics. CPU seconds (this process, all its
threads; the database's own work not included) are reported next to wall seconds: the machine is
shared, and they move less with its load. On PostgreSQL, all of them are rebuilt once more over
--workers processes (`projections rebuild --all --workers N`), CPU seconds there being every process's.
Targets: each rebuild (and all of them together) at half the raw rate or better; customer-360 p99
under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import psycopg
from eventsourcing.persistence import Notification

from adapters.customer_query import customer_360
from adapters.gc_quiet import quiet_gc
from adapters.ledger_projection import LedgerProjection
from adapters.persistence import open_store
from adapters.projection_group import Member, ProjectionGroup
from adapters.projection_members import REBUILD_BATCH_SIZE, projection, projection_names
from adapters.projection_processes import ParallelRebuild, parallel_store
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_ahead import read_batch
from adapters.read_models import read_models
from adapters.settings import Settings
from commands.store import EventStore
from domain import expressions
from projections.customer_360 import CUSTOMER_360
from projections.pay_facts import PAY_TOPICS
from tests.benchmarks.common import (
    deals_for,
    fill,
    log,
    rate,
    ratio,
    raw_read,
    scratch_location,
    settle,
)
from tests.benchmarks.write_path import SERVER

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
LEDGER = "ledger"


class Tables:
    """Plain SQL on the scratch store, outside every timed path: counts that explain the figures."""

    def __init__(self, url: str, schema: str | None) -> None:
        self.url, self.schema = url, schema

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.schema is None:
            placeholder_query = query.format(events="salesledger_events", docs="read_docs").replace("%s", "?")
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as conn:
                return list(conn.execute(placeholder_query, params).fetchall())
        schema = self.schema
        with psycopg.connect(SERVER) as conn:
            sql = query.format(events=f"{schema}.salesledger_events", docs=f"{schema}.read_docs")
            return list(conn.execute(sql, params).fetchall())  # type: ignore[call-overload]

    def topics(self) -> dict[str, int]:
        return {t: int(n) for t, n in self.rows("select topic, count(*) from {events} group by topic")}

    def documents(self, projection: str) -> int:
        return int(self.rows("select count(*) from {docs} where projection = %s", projection)[0][0])


def rebuilders(store: EventStore, batch_size: int) -> dict[str, Callable[[], int]]:
    """Each projection's rebuild from empty, by name, the ledger first."""

    def ledger() -> int:
        # Memoised bonus decisions from an earlier fold would make the ledger's fold look cheaper.
        expressions._evaluate.cache_clear()
        return LedgerProjection(store, batch_size).rebuild()

    found: dict[str, Callable[[], int]] = {LEDGER: ledger}
    view = open_doc_view(store)
    for name, factory in read_models(Settings()).items():
        found[name] = lambda factory=factory: ProjectionRunner(store, view, factory, batch_size).rebuild()
    return found


def folded_events(name: str, store: EventStore, topics: dict[str, int]) -> int:
    if name == LEDGER:
        wanted: tuple[str, ...] = tuple(PAY_TOPICS)
    else:
        wanted = read_models(Settings())[name]().topics
    return sum(topics.values()) if not wanted else sum(topics.get(t, 0) for t in wanted)


def timed_raw(store: EventStore, batch_size: int) -> dict[str, Any]:
    cpu = time.process_time()
    return {**raw_read(store, batch_size), "cpu": time.process_time() - cpu}


def timed_folds_reader(store: EventStore, batch_size: int) -> dict[str, Any]:
    """Every notification read as the folds read them (`read_ahead.read_batch`, on PostgreSQL a query
    of its own) and decoded by the store's mapper: not the target's baseline, which is the store's
    own read, but how much of the gap to it is the read alone."""
    with quiet_gc():
        started, cpu = time.perf_counter(), time.process_time()
        head = store.recorder.max_notification_id() or 0
        position = decoded = 0
        while position < head:
            notifications = read_batch(store, position, head, batch_size, ())
            for notification in notifications:
                store.mapper.to_domain_event(cast("Notification", notification))
            decoded += len(notifications)
            position = notifications[-1].id if len(notifications) == batch_size else head
        return {
            "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu,
            "decoded": decoded,
        }


def rebuild_all(store: EventStore, batch_size: int, tables: Tables) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, rebuild in rebuilders(store, batch_size).items():
        log(f"rebuild: {name}")
        started, cpu = time.perf_counter(), time.process_time()
        position = rebuild()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        documents = None if name == LEDGER else tables.documents(name)
        results[name] = {"seconds": seconds, "cpu": cpu, "position": position, "documents": documents}
        log(f"rebuild: {name} in {seconds:.1f} s")
    return results


def rebuild_one_pass(store: EventStore, batch_size: int, schema: str | None) -> dict[str, Any]:
    """Every projection rebuilt together, as `projections rebuild --all` does: one read and one decode
    of each event for all of them. What the rebuilds before it saved is dropped, and the tables
    vacuumed, before the clock starts: each rebuild alone started from empty tables too."""
    expressions._evaluate.cache_clear()
    view = open_doc_view(store)
    members: list[Member] = [LedgerProjection(store, batch_size)]
    members += [ProjectionRunner(store, view, f, batch_size) for f in read_models(Settings()).values()]
    for member in members:
        member.reset()
    settle(schema, tables=("read_docs", "ledger_facts", "ledger_closed", "ledger_lines"))
    log("rebuild: all in one pass")
    started, cpu = time.perf_counter(), time.process_time()
    position = ProjectionGroup(store, members, batch_size).catch_up()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    log(f"rebuild: all in one pass in {seconds:.1f} s")
    return {"seconds": seconds, "cpu": cpu, "position": position}


def rebuild_over_workers(
    store: EventStore, url: str, batch_size: int, schema: str | None, workers: int
) -> dict[str, Any] | None:
    """Every projection rebuilt as `projections rebuild --all --workers N` does on PostgreSQL: split in
    N groups, each rebuilt in one pass by its own process. From empty vacuumed tables, like the others;
    its CPU seconds are the workers' (and this process's)."""
    settings = Settings().model_copy(update={"database_url": url})
    if schema is None or workers < 2 or not parallel_store(settings):
        return None
    for member in [projection(store, settings, name, batch_size) for name in projection_names(settings)]:
        member.reset()
    settle(schema, tables=("read_docs", "ledger_facts", "ledger_closed", "ledger_lines"))
    expressions._evaluate.cache_clear()
    rebuild = ParallelRebuild(settings, projection_names(settings), batch_size, workers)
    log(f"rebuild: all over {workers} worker processes {rebuild.groups}")
    head = store.recorder.max_notification_id() or 0
    started, cpu = time.perf_counter(), _cpu_with_children()
    position = rebuild.run(head)
    seconds, cpu = time.perf_counter() - started, _cpu_with_children() - cpu
    log(f"rebuild: all over {workers} workers in {seconds:.1f} s")
    return {
        "seconds": seconds,
        "cpu": cpu,
        "position": position,
        "workers": workers,
        "groups": rebuild.groups,
    }


def _cpu_with_children() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def customers_by_orders(store: EventStore) -> tuple[list[str], list[str]]:
    view = open_doc_view(store)
    with_orders: list[str] = []
    without: list[str] = []
    after = ""
    while page := view.page(CUSTOMER_360, "customer", after, 1000):
        for key, doc in page:
            (with_orders if doc["orders"]["count"] > 0 else without).append(key)
        after = page[-1][0]
    return with_orders, without


def query_clients(
    url: str, customers: list[tuple[str, bool]], clients: int, seconds: float, seed: int
) -> dict[str, Any]:
    """`clients` threads, each with its own store (so its own connections), asking customer 360 for
    random customers until the time is up; every answer's latency, by whether the customer has orders."""
    samples: list[list[tuple[float, bool]]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    deadline: list[float] = []
    # The timed window opens once every client is warm; the last one to arrive opens it.
    ready = threading.Barrier(clients, action=lambda: deadline.append(time.perf_counter() + seconds))
    # Opened one after another: opening a store creates its tables if missing, and PostgreSQL
    # refuses concurrent CREATE ... IF NOT EXISTS of the same table ("tuple concurrently updated").
    stores = [open_store(url) for _ in range(clients)]

    def client(index: int) -> None:
        try:
            view = open_doc_view(stores[index])
            rng = random.Random(seed + index)
            for customer_id, _ in rng.sample(customers, min(20, len(customers))):
                customer_360(view, customer_id)  # warm: pool connections open, statements prepared
            ready.wait()
            mine = samples[index]
            while time.perf_counter() < deadline[0]:
                customer_id, has_orders = rng.choice(customers)
                started = time.perf_counter()
                if customer_360(view, customer_id) is None:
                    raise LookupError(f"customer {customer_id} has no customer-360 document")
                mine.append(((time.perf_counter() - started) * 1000, has_orders))
        except BaseException as failure:
            errors.append(failure)
            ready.abort()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    if errors:
        raise errors[0]
    started = deadline[0] - seconds
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    everything = [s for mine in samples for s in mine]
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "queries": len(everything),
        "queries_per_s": round(len(everything) / elapsed),
        "all": latency([ms for ms, _ in everything]),
        "with_orders": latency([ms for ms, has in everything if has]),
        "without_orders": latency([ms for ms, has in everything if not has]),
    }


def latency(milliseconds: list[float]) -> dict[str, Any]:
    if len(milliseconds) < 2:
        return {"queries": len(milliseconds)}
    cuts = statistics.quantiles(milliseconds, n=100, method="inclusive")
    return {
        "queries": len(milliseconds),
        "p50_ms": round(cuts[49], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(max(milliseconds), 2),
        "mean_ms": round(statistics.fmean(milliseconds), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    deals = deals_for(args.events)
    with scratch_location(args.db) as (url, schema):
        store = open_store(url)
        tables = Tables(url, schema)
        try:
            log(f"fill: simulating {deals} deals ({args.reps} reps, {args.months} months, seed {args.seed})")
            filled = fill(store, deals, args.reps, args.months, args.seed, args.import_batch_size)
            settle(schema)
            events = filled["events"]
            topics = tables.topics()
            load = [os.getloadavg()[0]]
            log("raw read + decode, twice (before the rebuilds)")
            raws = [timed_raw(store, args.batch_size) for _ in range(2)]
            rebuilt = rebuild_all(store, args.projection_batch_size, tables)
            one_pass = rebuild_one_pass(store, args.projection_batch_size, schema)
            over_workers = rebuild_over_workers(store, url, args.projection_batch_size, schema, args.workers)
            log("raw read + decode (after the rebuilds)")
            raws.append(timed_raw(store, args.batch_size))
            folds_reader = min(
                (timed_folds_reader(store, args.batch_size) for _ in range(2)), key=lambda r: r["seconds"]
            )
            load.append(os.getloadavg()[0])
            with_orders, without = customers_by_orders(store)
            log(f"customer 360: {args.clients} clients for {args.seconds:.0f} s")
            customers = [(c, True) for c in with_orders] + [(c, False) for c in without]
            queried = query_clients(url, customers, args.clients, args.seconds, args.seed)
            folded = {name: folded_events(name, store, topics) for name in rebuilt}
        finally:
            store.close()
    raw = min(raws, key=lambda r: r["seconds"])
    raw_rate = rate(events, raw["seconds"])
    projections = {
        name: {
            "events_folded": folded[name],
            "documents": result["documents"],
            "seconds": round(result["seconds"], 2),
            "cpu_seconds": round(result["cpu"], 2),
            "events_per_s": rate(events, result["seconds"]),
            "ratio_to_raw": ratio(rate(events, result["seconds"]), raw_rate),
        }
        for name, result in rebuilt.items()
    }
    total_seconds = sum(result["seconds"] for result in rebuilt.values())
    total_cpu = sum(result["cpu"] for result in rebuilt.values())
    total_rate = rate(events, total_seconds)
    one_pass_rate = rate(events, one_pass["seconds"])
    workers_rate = None if over_workers is None else rate(events, over_workers["seconds"])
    best_all = max(one_pass_rate, workers_rate or 0)
    p99 = queried["all"].get("p99_ms")
    return {
        "db": args.db,
        "events_requested": args.events,
        "history": {"reps": args.reps, "months": args.months, "deals": deals, "seed": args.seed},
        "fill": filled,
        "events_in_store": events,
        "rate_basis": "events/s = all events in the store (max notification id) / wall time",
        # Raw and rebuilds share 2 cores with the database and whatever else runs: the 1-minute load
        # average before and after them says how much else did.
        "load_average": {"before": load[0], "after": load[1]},
        "raw_read_decode": {
            "batch_size": args.batch_size,
            "events_decoded": raw["decoded"],
            "seconds": round(raw["seconds"], 2),
            "cpu_seconds": round(raw["cpu"], 2),
            "all_seconds": [round(r["seconds"], 2) for r in raws],
            "events_per_s": raw_rate,
        },
        "folds_reader_read_decode": {
            "how": "read as folds read (adapters.read_ahead.read_batch) and decoded by the store's mapper",
            "seconds": round(folds_reader["seconds"], 2),
            "cpu_seconds": round(folds_reader["cpu"], 2),
            "events_per_s": rate(events, folds_reader["seconds"]),
            "ratio_to_raw": ratio(rate(events, folds_reader["seconds"]), raw_rate),
        },
        "rebuild": {
            "batch_size": args.projection_batch_size,
            "projections": projections,
            "total": {
                "how": "one after another in one process, as `projections run` folds them",
                "seconds": round(total_seconds, 2),
                "cpu_seconds": round(total_cpu, 2),
                "events_per_s": total_rate,
                "ratio_to_raw": ratio(total_rate, raw_rate),
            },
            "one_pass": {
                "how": "all together, each event read and decoded once (`projections rebuild --all`)",
                "seconds": round(one_pass["seconds"], 2),
                "cpu_seconds": round(one_pass["cpu"], 2),
                "events_per_s": one_pass_rate,
                "ratio_to_raw": ratio(one_pass_rate, raw_rate),
            },
            "workers": None
            if over_workers is None
            else {
                "how": f"all together over {over_workers['workers']} processes, a group of projections "
                "each, each group in one pass (`projections rebuild --all --workers N`)",
                "groups": over_workers["groups"],
                "seconds": round(over_workers["seconds"], 2),
                "cpu_seconds": round(over_workers["cpu"], 2),
                "events_per_s": workers_rate,
                "ratio_to_raw": ratio(workers_rate or 0, raw_rate),
            },
            "target_ratio": TARGET_RATIO,
            "below_target": [n for n, p in projections.items() if (p["ratio_to_raw"] or 0) < TARGET_RATIO]
            + (["all together"] if (ratio(best_all, raw_rate) or 0) < TARGET_RATIO else []),
        },
        "customer_360": {
            **queried,
            "customers": {"with_orders": len(with_orders), "without_orders": len(without)},
            "target_p99_ms": TARGET_P99_MS,
            "meets_target": p99 is not None and p99 < TARGET_P99_MS,
        },
    }


def summary(results: dict[str, Any]) -> str:
    raw, rebuild, query = results["raw_read_decode"], results["rebuild"], results["customer_360"]
    rows = [("raw read + decode", raw, 1.0, "")]
    reader = results["folds_reader_read_decode"]
    rows.append(("  same, the folds' reader", reader, reader["ratio_to_raw"], ""))
    for name, p in rebuild["projections"].items():
        documents = "" if p["documents"] is None else f"{p['documents']:,}"
        rows.append((f"rebuild {name}", p, p["ratio_to_raw"], documents))
    total = rebuild["total"]
    rows.append(("rebuild all (sequential)", total, total["ratio_to_raw"], ""))
    one_pass = rebuild["one_pass"]
    rows.append(("rebuild all (one pass)", one_pass, one_pass["ratio_to_raw"], ""))
    if (workers := rebuild["workers"]) is not None:
        rows.append(
            (f"rebuild all ({len(workers['groups'])} processes)", workers, workers["ratio_to_raw"], "")
        )
    load = results["load_average"]
    out = [
        f"{results['events_in_store']:,} events in a {results['db']} store; {results['rate_basis']}; "
        f"load average {load['before']:.1f} before, {load['after']:.1f} after",
        f"{'path':<28}{'seconds':>10}{'cpu s':>8}{'events/s':>12}{'ratio':>8}{'documents':>12}",
    ]
    out += [
        f"{n:<28}{f['seconds']:>10.2f}{f['cpu_seconds']:>8.2f}{f['events_per_s']:>12,}{x:>8.3f}{d:>12}"
        for n, f, x, d in rows
    ]
    below = rebuild["below_target"]
    out.append(
        f"target ratio {rebuild['target_ratio']}: "
        + (f"below it: {', '.join(below)}" if below else "every projection meets it")
    )
    out.append(
        f"customer 360, {query['clients']} clients, {query['seconds']} s, "
        f"{query['queries_per_s']:,} queries/s "
        f"({query['customers']['with_orders']:,} customers with orders, "
        f"{query['customers']['without_orders']:,} without):"
    )
    for label in ("all", "with_orders", "without_orders"):
        q = query[label]
        if "p50_ms" in q:
            out.append(
                f"  {label:<16}{q['queries']:>9,} queries  p50 {q['p50_ms']:>7.2f} ms  "
                f"p99 {q['p99_ms']:>7.2f} ms  max {q['max_ms']:>8.2f} ms"
            )
    verdict = "meets" if query["meets_target"] else "MISSES"
    out.append(f"  {verdict} the p99 target of {query['target_p99_ms']} ms")
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
    parser.add_argument("--batch-size", type=int, default=5000, help="notifications per raw read")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for the rebuild over workers"
    )
    parser.add_argument(
        "--projection-batch-size",
        type=int,
        default=REBUILD_BATCH_SIZE,
        help="events per rebuild batch (saved together)",
    )
    parser.add_argument("--import-batch-size", type=int, default=500, help="commands per fill transaction")
    parser.add_argument("--clients", type=int, default=8, help="concurrent customer-360 clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="customer-360 query time")
    args = parser.parse_args()
    results = run(args)
    print(json.dumps(results, indent=1))
    print(summary(results))


if __name__ == "__main__":
    main()
