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
import time
from typing import Any

from adapters.ledger_projection import LedgerProjection
from commands.store import EventStore
from domain import expressions
from projections.pay_facts import PAY_TOPICS
from replay.recompute import recompute
from tests.benchmarks.common import deals_for, fill, log, rate, raw_read, scratch_store, settle

TARGET_RATIO = 0.5


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


def run(args: argparse.Namespace) -> dict[str, Any]:
    deals = deals_for(args.events)
    with scratch_store(args.db) as (store, schema):
        log(f"fill: simulating {deals} deals ({args.reps} reps, {args.months} months, seed {args.seed})")
        filled = fill(store, deals, args.reps, args.months, args.seed, args.import_batch_size)
        settle(schema)
        events = filled["events"]
        raws, recomputes = [], []
        for repetition in range(args.repeat):
            log(f"run {repetition + 1}/{args.repeat}: raw read + decode")
            raws.append(raw_read(store, args.batch_size, frozenset(PAY_TOPICS)))
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
            "pay_events": raw["counted"],
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
