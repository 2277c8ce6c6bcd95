"""The HTTP API in-process over a real store holding the public scenario, with a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Service, bootstrap
from adapters.http_app import create_app
from adapters.importer import import_lines
from adapters.settings import Settings
from adapters.tokens import Principal, TokenStore
from tests.conftest import SCENARIOS

HISTORY = SCENARIOS / "small-org" / "history.jsonl"
# The scenario's teams, from its OnboardRep commands.
EAST = ("r-ka1", "r-smb1", "r-ch1")
SOUTH = ("r-ka2", "r-smb2")
# Who each test token speaks for: name -> (role, rep_id, team).
TOKENS: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None),
    "auditor": ("auditor", None, None),
    "finance": ("finance", None, None),
    "presales": ("presales", "ps-1", None),
    "manager": ("manager", None, "east"),
    "rep": ("rep", "r-ka1", None),
    "manager_south": ("manager", None, "south"),
    "rep_smb1": ("rep", "r-smb1", None),
}
ROLES = ("admin", "auditor", "finance", "presales", "manager", "rep")


@dataclass
class Served:
    url: str
    service: Service
    client: TestClient
    principals: dict[str, Principal] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(who), params=params)

    def post(self, who: str, command: dict[str, Any]) -> Any:
        return self.client.post("/commands", headers=self.headers(who), json=command)


@contextmanager
def store_url(kind: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A fresh store of the kind asked for, for a whole module."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'salesledger.db'}"
        return
    server = str(request.getfixturevalue("postgres_server"))
    schema = f"t_{uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    try:
        yield f"{server}?schema={schema}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


@contextmanager
def served_scenario(url: str, **settings: Any) -> Iterator[Served]:
    service = bootstrap(url, Settings(**{"http_wait_seconds": 1.0, **settings}))
    try:
        with HISTORY.open(encoding="utf-8") as lines:
            report = import_lines(service.executor, lines)
        assert report.accepted == 218, report.rejected
        tokens = TokenStore(service.store)
        served = Served(url, service, TestClient(create_app(service)))
        for name, (role, rep_id, team) in TOKENS.items():
            principal, secret = tokens.create(role, rep_id, team, datetime.now(UTC))
            served.principals[name], served.secrets[name] = principal, secret
        with served.client:
            yield served
    finally:
        service.close()
