"""API bearer tokens: a table beside the event store, holding only each secret's SHA-256.

The secret is 32 random bytes (`secrets.token_urlsafe`), so a plain SHA-256 is enough: a slow KDF
protects guessable passwords, and nothing about 256 random bits is guessable. A leaked table
therefore gives nobody a usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier

from commands.store import EventStore

Role = Literal["rep", "manager", "presales", "finance", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
PREFIX = "slt_"

_CREATE = (
    "CREATE TABLE IF NOT EXISTS {table} (token_id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, "
    "role TEXT NOT NULL, rep_id TEXT, team TEXT, created_at TEXT NOT NULL, revoked_at TEXT)"
)
_INSERT = (
    "INSERT INTO {table} (token_id, secret_sha256, role, rep_id, team, created_at) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
)
_COLUMNS = "token_id, role, rep_id, team, created_at, revoked_at"
_BY_SECRET = "SELECT " + _COLUMNS + " FROM {table} WHERE secret_sha256 = {p}"
_ALL = "SELECT " + _COLUMNS + " FROM {table} ORDER BY created_at, token_id"
_REVOKE = "UPDATE {table} SET revoked_at = {p} WHERE token_id = {p} AND revoked_at IS NULL"


class TokenError(ValueError):
    """A token that cannot be created as asked; the message names the field and the rule."""


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for: a role, and the rep or team its rows are limited to."""

    token_id: str
    role: Role
    rep_id: str | None = None
    team: str | None = None
    created_at: str = ""
    revoked_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "token_id": self.token_id,
            "role": self.role,
            "rep_id": self.rep_id,
            "team": self.team,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scope(role: str, rep_id: str | None, team: str | None) -> Role:
    if role not in ROLES:
        raise TokenError(f"role: must be one of {', '.join(ROLES)}")
    if role == "rep" and not rep_id:
        raise TokenError("rep_id: a rep token needs the rep it speaks for (--rep-id)")
    if role == "manager" and not team:
        raise TokenError("team: a manager token needs the team it manages (--team)")
    if role not in ("rep", "manager", "presales") and (rep_id or team):
        raise TokenError(f"rep_id: a {role} token sees every row; it takes no rep or team")
    return role


class TokenStore:
    def __init__(self, store: EventStore) -> None:
        datastore = store.recorder.datastore  # type: ignore[attr-defined]
        self.datastore: SQLiteDatastore | PostgresDatastore = datastore
        self._write(_CREATE, ())

    def _sql(self, template: str) -> Any:
        if isinstance(self.datastore, PostgresDatastore):
            table = Identifier(self.datastore.schema, "api_tokens").as_string()
            return SQL(template.format(table=table, p="%s")).format()
        return template.format(table="api_tokens", p="?")

    def _select(self, template: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        if isinstance(self.datastore, PostgresDatastore):
            # One statement needs no transaction block: one round trip per request, not three.
            with self.datastore.get_connection() as connection:
                rows = connection.execute(self._sql(template), params, prepare=True).fetchall()
            return [tuple(row.values()) for row in rows]
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(template), params)
            return [tuple(row) for row in cursor.fetchall()]

    def _write(self, template: str, params: Sequence[Any]) -> int:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._sql(template), params)
            raw: Any = getattr(cursor, "sqlite_cursor", cursor)
            return int(raw.rowcount)

    def create(
        self, role: str, rep_id: str | None, team: str | None, created_at: datetime
    ) -> tuple[Principal, str]:
        """A new token; the secret is returned once and never stored."""
        checked = check_scope(role, rep_id, team)
        token_id = f"tok_{secrets.token_hex(6)}"
        secret = PREFIX + secrets.token_urlsafe(32)
        principal = Principal(token_id, checked, rep_id or None, team or None, created_at.isoformat())
        self._write(
            _INSERT,
            (token_id, digest(secret), checked, principal.rep_id, principal.team, principal.created_at),
        )
        return principal, secret

    def verify(self, secret: str) -> Principal | None:
        """The live token with this secret, or None (unknown or revoked)."""
        if not secret.startswith(PREFIX):
            return None
        rows = self._select(_BY_SECRET, (digest(secret),))
        if not rows:
            return None
        principal = _principal(rows[0])
        return principal if principal.revoked_at is None else None

    def revoke(self, token_id: str, revoked_at: datetime) -> bool:
        return self._write(_REVOKE, (revoked_at.isoformat(), token_id)) > 0

    def all(self) -> list[Principal]:
        return [_principal(row) for row in self._select(_ALL, ())]


def _principal(row: Sequence[Any]) -> Principal:
    token_id, role, rep_id, team, created_at, revoked_at = row
    return Principal(token_id, role, rep_id, team, created_at, revoked_at)
