"""Properties of the commission ledger over simulated histories: closed periods stay frozen, every
later change is posted as an adjustment, reruns under the plan in force post nothing, and the
persisted projection gives byte-identical payroll whatever its batch size or restarts."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ledger_projection import LedgerProjection
from adapters.persistence import open_store
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_command
from commands.store import EventStore
from projections.ledger import Ledger
from projections.pay_facts import PAY_TOPICS
from replay.history import events as replay_events
from replay.payroll import run_document
from replay.recompute import fold
from tests.conftest import FixedClock

LATER = datetime(2031, 1, 1, tzinfo=UTC)


def memory_store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def history(seed: int) -> list[dict[str, Any]]:
    return list(simulate(reps=4, deals=36, months=5, seed=seed, start="2026-01"))


def execute(executor: Executor, commands: list[dict[str, Any]]) -> None:
    parsed: list[Any] = []
    for data in commands:
        try:
            parsed.append(parse_command(data))
        except InvalidCommand as invalid:
            parsed.append(invalid)
    for _ in executor.execute_many(parsed, batch_size=50):
        pass


def totals_by_rep(lines: Any) -> dict[str, Decimal]:
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line.rep_id] += line.amount
    return dict(sums)


def adjustment_amounts(ledger: Ledger) -> dict[tuple[str, str | None], Decimal]:
    return {(line.rep_id, line.corrects): line.amount for line in ledger.adjustments()}


@given(seed=st.integers(0, 10_000), cut=st.floats(0.15, 0.95))
@settings(max_examples=12, deadline=None)
def test_closing_then_adding_events_changes_only_open_periods(seed: int, cut: float) -> None:
    commands = history(seed)
    store = memory_store()
    executor = Executor(store, Context(clock=FixedClock()))
    split = int(len(commands) * cut)
    execute(executor, commands[:split])
    before = fold(store)
    frozen = {period: before.lines(period) for period in before.closed}

    execute(executor, commands[split:])
    after = fold(store)
    for period, lines in frozen.items():
        assert after.lines(period) == lines, f"closed period {period} changed"
    # Whatever changed a closed period since is owed exactly: entitlement now = posted + adjustments.
    pending = defaultdict(Decimal)
    for line in after.adjustments():
        assert line.kind == "adjustment"
        assert line.period == after.first_open
        pending[(line.rep_id, line.corrects)] += line.amount
    for period in after.closed:
        now = totals_by_rep(after.current_entitlement(period))
        posted = after.posted(period)
        for rep_id in set(now) | set(posted):
            owed = posted.get(rep_id, Decimal(0)) + pending[(rep_id, period)]
            assert now.get(rep_id, Decimal(0)) == owed, (period, rep_id)


@given(seed=st.integers(0, 10_000))
@settings(max_examples=8, deadline=None)
def test_a_rerun_under_the_plan_in_force_posts_nothing(seed: int) -> None:
    store = memory_store()
    executor = Executor(store, Context(clock=FixedClock()))
    execute(executor, history(seed))
    ledger = fold(store)
    assert ledger.closed, "the simulated history closes periods"
    before = adjustment_amounts(ledger)
    reruns = [
        {
            "type": "ApplyRerun",
            "period": period,
            "plan": closed.plan,
            "approved_by": "property",
            "occurred_at": LATER.isoformat(),
        }
        for period, closed in sorted(ledger.closed.items())
    ]
    execute(executor, reruns)
    again = fold(store)
    assert {p: c.plan for p, c in again.closed.items()} == {p: c.plan for p, c in ledger.closed.items()}
    assert adjustment_amounts(again) == before


@pytest.fixture(scope="module")
def simulated_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EventStore, dict[str, str]]]:
    path = Path(tmp_path_factory.mktemp("ledger")) / "history.db"
    store = open_store(f"sqlite:///{path}")
    execute(Executor(store, Context(clock=FixedClock())), history(seed=7))
    reference = fold(store)
    periods = sorted(set(reference.facts.periods()) | set(reference.closed))
    expected = {p: json.dumps(run_document(reference, p), indent=1) for p in periods}
    yield store, expected
    store.close()


@given(batch_size=st.integers(7, 400), restart_after=st.integers(0, 6), second_batch=st.integers(7, 400))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_payroll_output_is_byte_identical_after_any_rebuild(
    simulated_store: tuple[EventStore, dict[str, str]], batch_size: int, restart_after: int, second_batch: int
) -> None:
    store, expected = simulated_store
    first = LedgerProjection(store, batch_size=batch_size)
    first.view.reset()
    first.reload()
    first.catch_up(max_batches=restart_after)
    # A restart: a new process loads what was saved and goes on with another batch size.
    second = LedgerProjection(store, batch_size=second_batch)
    assert second.position == first.position
    second.catch_up()
    actual = {p: json.dumps(run_document(second.ledger, p), indent=1) for p in expected}
    assert actual == expected


@given(seed=st.integers(0, 10_000), every=st.integers(1, 40))
@settings(max_examples=10, deadline=None)
def test_asking_for_pay_along_the_way_changes_no_figure(seed: int, every: int) -> None:
    """Entitlement is cached between events; whatever was asked before, each figure is as a fresh fold's."""
    store = memory_store()
    execute(Executor(store, Context(clock=FixedClock())), history(seed))
    events = list(replay_events(store, PAY_TOPICS))
    asked, fresh = Ledger(), Ledger()
    for n, event in enumerate(events):
        asked.apply(event)
        fresh.apply(event)
        if n % every == 0:
            for period in asked.facts.periods():
                for plan in asked.facts.plans:
                    asked.entitlement(period, plan)
    # `fresh` asked nothing on the way, apart from what closing periods needs.
    for period in sorted(set(fresh.facts.periods()) | set(fresh.closed)):
        assert asked.lines(period) == Ledger.lines(_uncached(fresh), period), period
        for plan in fresh.facts.plans:
            assert asked.entitlement(period, plan) == _uncached(fresh).entitlement(period, plan)


def _uncached(ledger: Ledger) -> Ledger:
    ledger._entitlements.clear()
    return ledger
