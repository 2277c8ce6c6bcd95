"""Properties of the write side, on SQLite and PostgreSQL (ids are unique per example)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence import open_store
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_command
from commands.store import EventStore
from commands.unit_of_work import AggregateCache, UnitOfWork
from domain.deal import Deal
from tests.builders import activity, open_deal, org, run, token
from tests.conftest import FixedClock, event_count
from tests.property.strategies import histories, junk

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def parsed(commands: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for data in commands:
        try:
            out.append(parse_command(data))
        except InvalidCommand as invalid:
            out.append(invalid)
    return out


@contextmanager
def opened(database_url: str) -> Iterator[tuple[EventStore, Executor]]:
    store = open_store(database_url)
    try:
        yield store, Executor(store, Context(clock=FixedClock()))
    finally:
        store.close()


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


@PROPERTY
@given(data=st.data())
def test_reloaded_aggregates_equal_those_in_memory(database_url: str, data: st.DataObject) -> None:
    t = token()
    commands = data.draw(histories(t))
    cache = AggregateCache()
    with opened(database_url) as (store, executor):
        list(executor.execute_many(parsed(commands), batch_size=data.draw(st.integers(1, 50)), cache=cache))
        for in_memory in cache.aggregates():
            assert state(store.repository.get(in_memory.id)) == state(in_memory)


@PROPERTY
@given(data=st.data())
def test_batched_import_decides_exactly_like_one_command_at_a_time(
    database_url: str, data: st.DataObject
) -> None:
    t1, t2 = token(), token()
    commands = data.draw(histories(t1))
    with opened(database_url) as (_store, executor):
        batched = list(executor.execute_many(parsed(commands), batch_size=data.draw(st.integers(1, 50))))
        one_by_one = run(executor, *[_retoken(c, t1, t2) for c in commands])
        assert [(o.status, o.error) for o in batched] == [
            (o.status, (o.error or "").replace(t2, t1) or None) for o in one_by_one
        ]


@PROPERTY
@given(schedule=st.lists(st.sampled_from(["a", "b"]), min_size=2, max_size=30))
def test_interleaved_writers_on_one_deal_lose_no_event(database_url: str, schedule: list[str]) -> None:
    """Each step either decides a writer's next command on the state it sees, or saves what it decided."""
    t = token()
    with opened(database_url) as (store, executor):
        run(executor, *org(t), open_deal(t))
        pending: dict[str, tuple[UnitOfWork, Any] | None] = {"a": None, "b": None}
        kinds = {"a": "call", "b": "demo"}
        sent = {"a": 0, "b": 0}
        for writer in [*schedule, "a", "b", "a", "b"]:
            if pending[writer] is None:
                uow = UnitOfWork(store)
                command = parse_command(activity(t, kinds[writer]))
                executor_decide(executor, uow, command)
                pending[writer] = (uow, command)
                continue
            uow, command = pending[writer]  # type: ignore[misc]
            pending[writer] = None
            sent[writer] += 1
            try:
                uow.commit()
            except Exception:
                # The other writer got there first: the command is decided again on fresh state.
                assert executor.execute(command).status == "applied"
        deal = store.repository.get(Deal.create_id(f"d-{t}"))
        assert deal.activities.get("call", 0) == sent["a"]
        assert deal.activities.get("demo", 0) == sent["b"]


@PROPERTY
@given(data=st.data())
def test_junk_commands_are_refused_with_field_and_rule_and_nothing_written(
    database_url: str, data: st.DataObject
) -> None:
    t = token()
    with opened(database_url) as (store, executor):
        valid = data.draw(histories(t))
        run(executor, *valid)
        for _ in range(10):
            command = data.draw(junk(valid))
            before = event_count(store)
            [outcome] = run(executor, command)
            if outcome.status == "refused":
                assert event_count(store) == before, command
                assert re.match(r"^.+?: \S", outcome.error or ""), outcome.error


def executor_decide(executor: Executor, uow: UnitOfWork, command: Any) -> None:
    from commands.executor import _decide  # noqa: PLC0415  (test reaches the decide step on purpose)

    assert _decide(command, uow, executor.context).status == "applied"


def _retoken(command: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {k: _swap(v, old, new) for k, v in command.items()}


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, old, new) for v in value]
    return value
