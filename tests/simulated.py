"""Simulated histories applied to a store through the executor, as the bulk import does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor
from commands.parsing import InvalidCommand, parse_command
from commands.store import EventStore
from tests.conftest import FixedClock


def memory_store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def apply(store: EventStore, commands: Iterable[Mapping[str, Any]], batch_size: int = 200) -> None:
    parsed: list[Any] = []
    for data in commands:
        try:
            parsed.append(parse_command(dict(data)))
        except InvalidCommand as invalid:
            parsed.append(invalid)
    executor = Executor(store, Context(clock=FixedClock()))
    for _ in executor.execute_many(parsed, batch_size=batch_size):
        pass


def simulated_store(
    store: EventStore | None = None, *, plant: Mapping[str, float] | None = None, **history: Any
) -> EventStore:
    """`store` (default: a new in-memory one) holding simulate(**history)."""
    target = store or memory_store()
    apply(target, simulate(plant=plant, **history))
    return target
