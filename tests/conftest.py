from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from adapters.persistence import open_store
from commands.context import Context
from commands.executor import Executor
from commands.store import EventStore

POSTGRES_URL = os.environ.get(
    "SALESLEDGER_TEST_POSTGRES_URL", "postgresql://salesledger:salesledger@127.0.0.1:5432/salesledger"
)
SCENARIOS = Path(__file__).resolve().parents[2] / "shared" / "scenarios"


class FixedClock:
    def __init__(self, start: datetime = datetime(2026, 6, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    # A missing server is a failure, never a skip: these tests are the proof it works on PostgreSQL.
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (run deploy/postgres.sh): {error}")
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh schema per test, so ids never collide and nothing needs truncating."""
    schema = f"t_{uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    yield f"{postgres_server}?schema={schema}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'drop schema "{schema}" cascade')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'salesledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    opened = open_store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def executor(store: EventStore, clock: FixedClock) -> Executor:
    return Executor(store, Context(clock=clock))


def event_count(store: EventStore) -> int:
    return store.recorder.max_notification_id() or 0
