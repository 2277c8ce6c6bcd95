"""The local PostgreSQL from deploy/postgres.sh accepts the app's role over TCP.

Fails (never skips) when the server is down: run deploy/postgres.sh first.
"""

import os

import psycopg
import pytest

URL = os.environ.get(
    "SALESLEDGER_TEST_POSTGRES_URL",
    "postgresql://salesledger:salesledger@127.0.0.1:5432/salesledger",
)

pytestmark = pytest.mark.postgres


def _connect() -> psycopg.Connection:
    try:
        return psycopg.connect(URL, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL not reachable at {URL} (run deploy/postgres.sh): {exc}")


def test_select_one() -> None:
    with _connect() as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_role_can_create_tables_in_public_schema() -> None:
    # PostgreSQL 15 no longer lets every role create in `public`; the event store needs to.
    with _connect() as conn:
        conn.execute("create table salesledger_probe (id int)")
        conn.execute("insert into salesledger_probe values (1)")
        assert conn.execute("select count(*) from salesledger_probe").fetchone() == (1,)
        conn.rollback()
