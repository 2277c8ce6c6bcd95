"""What-if sweep benchmark: a 10-point plan sweep over the 12 months of a simulated history.

    make bench            (or: python -m tests.benchmarks.whatif_sweep --events 1000000 --db postgres)

The store is filled with `salesledger simulate` commands through the bulk import path until it holds
about --events events (or --url names a store already filled, which is then only read). Then:
  fold       `replay.recompute.fold(store)`: the pay history, read once from the store;
  compute    `replay.whatif.run_sweep`: every period's history built once, the live ledger's figures,
             and each of the 10 points for each of the 12 periods, in-process (1 worker) and over
             worker processes (--workers), alternating, --repeat times; the best of each is kept and
             the two documents must be byte-identical.
  cli        the same sweep through `salesledger whatif live ... --format json` in a new process (start,
             fold, compute with the default choice of workers, print); its output must equal the above.
Wall time = fold + the faster compute; events/s = all events in the store (max notification id) / wall.
The memo of bonus decisions is forgotten before each compute, so every run starts cold.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from adapters.bootstrap import system_clock
from adapters.persistence import open_store
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_json_line
from commands.store import EventStore
from domain import expressions
from replay.recompute import fold
from replay.sweep_grid import parse_axis
from replay.whatif import Sweep, auto_workers, parse_periods, run_sweep
from tests.benchmarks.write_path import SERVER, scratch_schema

# Events written per simulated deal with 100 reps over 12 months, command receipts included.
EVENTS_PER_DEAL = 35.7
DEFAULT_SWEEP = "bonuses[0].rate=0.004..0.013:0.001"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def bench_store(args: argparse.Namespace) -> Iterator[tuple[EventStore, str, dict[str, Any] | None]]:
    """The store to sweep: --url as it is, or a scratch one filled now (and dropped afterwards)."""
    if args.url:
        store = open_store(args.url)
        try:
            yield store, args.url, None
        finally:
            store.close()
        return
    if args.db == "sqlite":
        raise SystemExit("--db sqlite needs --url sqlite:///PATH of a filled store")
    with scratch_schema() as schema:
        url = f"{SERVER}?schema={schema}"
        store = open_store(url)
        try:
            deals = max(1, round(args.events / EVENTS_PER_DEAL))
            log(f"fill: simulating {deals} deals ({args.reps} reps, 12 months, seed {args.seed})")
            filled = fill(store, deals, args.reps, args.seed, args.import_batch_size)
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(f"vacuum (analyze) {schema}.salesledger_events")
            yield store, url, filled
        finally:
            store.close()


def fill(store: EventStore, deals: int, reps: int, seed: int, batch_size: int) -> dict[str, Any]:
    """Imports a simulated year the way `salesledger import` does (JSON line, parse, bulk save)."""
    executor = Executor(store, Context(clock=system_clock))

    def commands() -> Iterator[Any]:
        for data in simulate(reps=reps, deals=deals, months=12, seed=seed):
            try:
                yield parse_json_line(json.dumps(data, separators=(",", ":"), ensure_ascii=False))
            except InvalidCommand as invalid:
                yield invalid

    started = last = time.perf_counter()
    count = 0
    for _ in executor.execute_many(commands(), batch_size):
        count += 1
        if time.perf_counter() - last >= 30:
            last = time.perf_counter()
            log(f"fill: {count} commands, {store.recorder.max_notification_id()} events")
    elapsed = time.perf_counter() - started
    return {"commands": count, "deals": deals, "seconds": round(elapsed, 1)}


def timed_sweep(store_ledger: Any, sweep: Sweep, workers: int) -> tuple[float, str]:
    expressions._evaluate.cache_clear()
    started = time.perf_counter()
    document = run_sweep(store_ledger, sweep, workers=workers)
    return time.perf_counter() - started, json.dumps(document, sort_keys=True)


def timed_cli(url: str, args: argparse.Namespace) -> tuple[float, str]:
    command = [sys.executable, "-m", "adapters", "--db", url, "whatif", "live"]
    command += ["--periods", args.periods, "--sweep", args.sweep, "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, json.dumps(json.loads(done.stdout), sort_keys=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    periods = parse_periods(args.periods)
    sweep = Sweep("live", periods, [parse_axis(args.sweep)])
    points = len(sweep.axes[0].values)
    with bench_store(args) as (store, url, filled):
        events = store.recorder.max_notification_id() or 0
        log(f"fold: {events} events in the store")
        started = time.perf_counter()
        ledger = fold(store)
        fold_seconds = time.perf_counter() - started
        histories = {period: ledger.facts.history(period) for period in periods}
        orders = sum(len(history.orders) for history in histories.values())
        chosen = auto_workers(histories, points + 1, args.workers)
        serial: list[float] = []
        parallel: list[float] = []
        outputs: set[str] = set()
        for repetition in range(args.repeat):
            for workers, times in ((1, serial), (args.workers, parallel)):
                log(f"run {repetition + 1}/{args.repeat}: sweep with {workers} worker(s)")
                seconds, output = timed_sweep(ledger, sweep, workers)
                times.append(seconds)
                outputs.add(output)
        log("the same sweep through the CLI")
        cli_seconds, cli_output = timed_cli(url, args)
        outputs.add(cli_output)
    best_serial, best_parallel = min(serial), min(parallel)
    compute = min(best_serial, best_parallel)
    wall = fold_seconds + compute
    return {
        "db": "url" if args.url else args.db,
        "events_in_store": events,
        "fill": filled,
        "sweep": {"axis": args.sweep, "points": points, "periods": len(periods), "orders": orders},
        "fold_seconds": round(fold_seconds, 2),
        "compute_seconds": {
            "serial": [round(s, 2) for s in serial],
            f"workers_{args.workers}": [round(s, 2) for s in parallel],
        },
        "identical": len(outputs) == 1,
        "faster": "serial" if best_serial <= best_parallel else f"{args.workers} workers",
        "auto_choice_workers": chosen,
        "wall_seconds": round(wall, 2),
        "events_per_s": round(events / wall) if wall else 0,
        "cli_seconds": round(cli_seconds, 2),
        "cli_events_per_s": round(events / cli_seconds) if cli_seconds else 0,
        "rate_basis": "events/s = all events in the store / (fold + faster compute)",
    }


def summary(results: dict[str, Any]) -> str:
    computes = results["compute_seconds"]
    return "\n".join(
        [
            f"{results['events_in_store']:,} events; {results['sweep']['points']}-point sweep over "
            f"{results['sweep']['periods']} months ({results['sweep']['orders']:,} orders)",
            f"fold {results['fold_seconds']} s; compute best {min(min(v) for v in computes.values()):.2f} s "
            f"({', '.join(f'{k} {min(v):.2f}' for k, v in computes.items())}); faster: {results['faster']}; "
            f"identical: {results['identical']}",
            f"wall {results['wall_seconds']} s = {results['events_per_s']:,} events/s; through the CLI "
            f"{results['cli_seconds']} s = {results['cli_events_per_s']:,} events/s",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many events in the store")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--url", default=None, help="sweep this filled store instead of filling one")
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--periods", default="2026-01..2026-12")
    parser.add_argument("--sweep", default=DEFAULT_SWEEP, help="FIELD=FROM..TO:STEP (10 points by default)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel run")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--import-batch-size", type=int, default=500)
    args = parser.parse_args()
    results = run(args)
    print(json.dumps(results, indent=1))
    print(summary(results))
    if not results["identical"]:
        raise SystemExit("the sweeps differ (serial, parallel, CLI)")


if __name__ == "__main__":
    main()
