"""What-if sweeps: pay for a range of periods under a candidate plan, or under every point of a grid of
variations of it, computed in a sandbox next to what the live ledger pays for the same periods.

The store is folded once; each period's history is built once and reused by every point. Periods are
independent, so they may be computed in worker processes: results are gathered in period order and
summed exactly (Decimal), so the document is byte-identical whatever the number of workers.

"Live" for a period P is what the ledger owes for P's own work: while P is open, its entitlement under
the plan governing it; once closed, everything posted for P (its frozen lines and the adjustments that
corrected it) plus the adjustments to P pending in the first open period. The ledger's adjustment rule
keeps that equal to P's entitlement now under the plan it uses for P (its closing or last rerun plan),
which is how it is computed here, as one more point of the sweep (tests/integration/test_whatif.py
checks the equality against the ledger's own lines). So at the point whose terms equal that plan, the
candidate equals live exactly. `payroll` is what is paid *in* P (the total of `ledger.lines(P)`), which
also holds adjustments to earlier periods: it is shown, not compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from multiprocessing import get_all_start_methods, get_context
from typing import Any, Literal

from domain.commission import counted_orders, credit_entries, entitlement
from domain.pay_history import PeriodHistory
from domain.periods import is_period, next_period
from domain.plan import Plan
from projections.ledger import Ledger
from replay.payroll import money, totals
from replay.sweep_grid import Axis, Point, SweepError, describe, grid, value_text, variant

ZERO = Decimal(0)
RATIO = Decimal("0.0001")
PERCENT = Decimal("0.1")
# Below this many (orders x plans) a sweep is computed in one process: starting workers and shipping
# histories to them costs more than it saves. Measured on 2 cores: 1,328 orders x 2 plans break even,
# 11,893 orders x 11 plans (tests/benchmarks/whatif_sweep.py, 1M events) run 2.3x faster on 2 workers.
PARALLEL_MIN_WORK = 5_000
Base = Literal["live"] | Plan


@dataclass(frozen=True)
class Figures:
    """One period under one plan: pay per rep, and the revenue and margin it was earned on."""

    payout: dict[str, Decimal]
    revenue: Decimal
    margin: Decimal


def period_figures(plan: Plan, history: PeriodHistory) -> Figures:
    lines = entitlement(plan, plan.key, history)
    counted = counted_orders(plan, history.orders)
    entries = [entry for order in counted for entry in credit_entries(plan, order)]
    return Figures(
        payout=totals(lines),
        revenue=sum((entry.amount for entry in entries), ZERO),
        margin=sum((entry.margin for entry in entries), ZERO),
    )


def _compute_period(task: tuple[PeriodHistory, tuple[Plan, ...]]) -> list[Figures]:
    history, plans = task
    return [period_figures(plan, history) for plan in plans]


def parse_periods(text: str) -> list[str]:
    """`2026-01..2026-06` (inclusive) or a single `2026-03`."""
    low, sep, high = (part.strip() for part in text.partition(".."))
    high = high if sep else low
    for name, value in (("FROM", low), ("TO", high)):
        if not is_period(value):
            raise SweepError(f"periods: {name} {value!r} is not a period YYYY-MM (write 2026-01..2026-06)")
    if low > high:
        raise SweepError(f"periods: FROM ({low}) must not be after TO ({high})")
    periods = [low]
    while periods[-1] < high:
        periods.append(next_period(periods[-1]))
    return periods


def ledger_plan(ledger: Ledger, period: str) -> str:
    """The plan the ledger uses for the period: its closing or last rerun plan, else the governing one."""
    closed = ledger.closed.get(period)
    key = closed.plan if closed else ledger.facts.governing_plan(period)
    if key is None:
        raise SweepError(f"periods: no plan governs {period} (none is effective from {period} or earlier)")
    return key


def terms(plan: Plan) -> tuple[object, ...]:
    """What pay depends on: everything but the plan's name, version and first period (compared as
    values, so 1.50 and 1.5 are the same term)."""
    return (plan.rates, plan.accelerators, plan.bonuses, plan.clawback_days, plan.scorecard)


@dataclass(frozen=True)
class Sweep:
    base: Base
    periods: Sequence[str]
    axes: Sequence[Axis] = ()
    threshold_pct: Decimal = Decimal(5)


def plans_by_period(ledger: Ledger, sweep: Sweep, points: Sequence[Point]) -> dict[str, tuple[Plan, ...]]:
    """Per period, the plan at every point: the candidate varied, or the period's live plan varied."""
    cache: dict[str, tuple[Plan, ...]] = {}
    result = {}
    for period in sweep.periods:
        base = ledger.facts.plan(ledger_plan(ledger, period)) if sweep.base == "live" else sweep.base
        if base.key not in cache:
            cache[base.key] = tuple(variant(base, point) for point in points)
        result[period] = cache[base.key]
    return result


def compute(
    histories: dict[str, PeriodHistory],
    plans: dict[str, tuple[Plan, ...]],
    workers: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[Figures]]:
    """Every period under each of its plans, in worker processes when workers > 1."""
    periods = list(histories)
    tasks = [(histories[period], plans[period]) for period in periods]
    if workers > 1 and len(periods) > 1:
        # Forked workers start at once; they run pure functions over the histories they are sent.
        context = get_context("fork") if "fork" in get_all_start_methods() else None
        with ProcessPoolExecutor(max_workers=min(workers, len(periods)), mp_context=context) as pool:
            figures = pool.map(_compute_period, tasks)
            return _collect(periods, figures, on_progress)
    return _collect(periods, map(_compute_period, tasks), on_progress)


def _collect(
    periods: list[str], figures: Iterable[list[Figures]], on_progress: Callable[[int, int], None] | None
) -> dict[str, list[Figures]]:
    results: dict[str, list[Figures]] = {}
    for period, computed in zip(periods, figures, strict=True):
        results[period] = computed
        if on_progress is not None:
            on_progress(len(results), len(periods))
    return results


def auto_workers(histories: dict[str, PeriodHistory], points: int, cpus: int) -> int:
    """Processes only when the work outweighs starting them: see PARALLEL_MIN_WORK."""
    work = sum(len(history.orders) for history in histories.values()) * points
    return min(cpus, len(histories)) if work >= PARALLEL_MIN_WORK else 1


def payroll_totals(ledger: Ledger, periods: Iterable[str], live: dict[str, Figures]) -> dict[str, Decimal]:
    """What payroll pays in each period: its frozen lines once closed; else its entitlement, plus, in
    the first open period, the pending adjustments (each closed period's entitlement now less what
    was posted for it); `live` must hold every closed period when the first open one is asked for."""
    first_open = ledger.first_open
    result = {}
    for period in periods:
        if ledger.is_closed(period):
            result[period] = sum((line.amount for line in ledger.frozen[period]), ZERO)
            continue
        result[period] = sum(live[period].payout.values(), ZERO)
        if period == first_open:
            for closed in ledger.closed:
                owed = sum(live[closed].payout.values(), ZERO)
                result[period] += owed - sum(ledger.posted(closed).values(), ZERO)
    return result


def run_sweep(
    ledger: Ledger,
    sweep: Sweep,
    workers: int | None = None,
    cpus: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The sweep document; `workers` None chooses by the size of the work (see auto_workers)."""
    points = grid(sweep.axes)
    variants = plans_by_period(ledger, sweep, points)
    live_plans = {period: ledger_plan(ledger, period) for period in sweep.periods}
    # Each period's live plan is computed as one more point; the payroll of the first open period
    # also needs every closed period's entitlement now, computed alone for those outside the range.
    plans = {period: (ledger.facts.plan(live_plans[period]), *variants[period]) for period in sweep.periods}
    if ledger.first_open in sweep.periods:
        for closed in sorted(set(ledger.closed) - set(sweep.periods)):
            plans[closed] = (ledger.facts.plan(ledger.closed[closed].plan),)
    histories = {period: ledger.facts.history(period) for period in sorted(plans)}
    chosen = auto_workers(histories, len(points) + 1, cpus) if workers is None else workers
    computed = compute(histories, plans, chosen, on_progress)
    owed = {period: figures[0] for period, figures in computed.items()}
    payroll = payroll_totals(ledger, sweep.periods, owed)
    live_terms = {period: terms(ledger.facts.plan(key)) for period, key in live_plans.items()}
    live_reps = _sum_reps(owed[period].payout for period in sweep.periods)
    points_documents = []
    for index, point in enumerate(points):
        matches = all(terms(variants[period][index]) == live_terms[period] for period in sweep.periods)
        figures = [computed[period][index + 1] for period in sweep.periods]
        points_documents.append(_point(sweep, point, matches, figures, owed, live_reps))
    return {
        "base": "live" if sweep.base == "live" else sweep.base.key,
        "periods": list(sweep.periods),
        "axes": [{"field": a.field, "values": [value_text(v) for v in a.values]} for a in sweep.axes],
        "threshold_pct": format(sweep.threshold_pct.normalize(), "f"),
        "live": {
            **_aggregate([owed[period] for period in sweep.periods]),
            "periods": [
                {
                    "period": period,
                    "plan": live_plans[period],
                    "closed": ledger.is_closed(period),
                    "payout": money(sum(owed[period].payout.values(), ZERO)),
                    "payroll": money(payroll[period]),
                }
                for period in sweep.periods
            ],
        },
        "points": points_documents,
    }


def _point(
    sweep: Sweep,
    point: Point,
    matches_live: bool,
    figures: Sequence[Figures],
    owed: dict[str, Figures],
    live_reps: dict[str, Decimal],
) -> dict[str, Any]:
    candidate_reps = _sum_reps(f.payout for f in figures)
    reps = _rep_diffs(live_reps, candidate_reps, sweep.threshold_pct)
    payout = sum(candidate_reps.values(), ZERO)
    return {
        "values": describe(point),
        "matches_live": matches_live,
        **_aggregate(figures),
        "difference": money(payout - sum(live_reps.values(), ZERO)),
        "reps_moved": sum(1 for rep in reps if rep["moved"]),
        "periods": [
            {
                "period": period,
                "payout": money(sum(f.payout.values(), ZERO)),
                "credited_revenue": money(f.revenue),
                "margin": money(f.margin),
                "live": money(sum(owed[period].payout.values(), ZERO)),
            }
            for period, f in zip(sweep.periods, figures, strict=True)
        ],
        "reps": reps,
    }


def _sum_reps(payouts: Iterable[dict[str, Decimal]]) -> dict[str, Decimal]:
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for payout in payouts:
        for rep_id, amount in payout.items():
            sums[rep_id] += amount
    return {rep_id: sums[rep_id] for rep_id in sorted(sums)}


def _aggregate(figures: Sequence[Figures]) -> dict[str, str | None]:
    payout = sum((sum(f.payout.values(), ZERO) for f in figures), ZERO)
    revenue = sum((f.revenue for f in figures), ZERO)
    margin = sum((f.margin for f in figures), ZERO)
    return {
        "payout": money(payout),
        "credited_revenue": money(revenue),
        "margin": money(margin),
        "payout_to_revenue": _ratio(payout, revenue),
        "payout_to_margin": _ratio(payout, margin),
    }


def _ratio(numerator: Decimal, denominator: Decimal) -> str | None:
    if denominator == 0:
        return None
    return str((numerator / denominator).quantize(RATIO, rounding=ROUND_HALF_UP))


def _rep_diffs(
    live: dict[str, Decimal], candidate: dict[str, Decimal], threshold_pct: Decimal
) -> list[dict[str, Any]]:
    """Per rep over the periods: live, candidate, the difference, and whether it moves more than X %."""
    reps = []
    for rep_id in sorted(set(live) | set(candidate)):
        before, after = live.get(rep_id, ZERO), candidate.get(rep_id, ZERO)
        difference = after - before
        if before == 0:
            change = None
            moved = difference != 0
        else:
            change_pct = difference / abs(before) * 100
            change = str(change_pct.quantize(PERCENT, rounding=ROUND_HALF_UP))
            moved = abs(change_pct) > threshold_pct
        reps.append(
            {
                "rep_id": rep_id,
                "live": money(before),
                "candidate": money(after),
                "difference": money(difference),
                "change_pct": change,
                "moved": moved,
            }
        )
    return reps
