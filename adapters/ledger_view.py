"""The ledger projection's tables, written in the same transaction as its tracking position."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from domain.pay_history import Line
from projections import json_text

# One row per projection in the library's tracking table: the key names the projection.
LEDGER_TRACKING = "salesledger.ledger"

FactRow = tuple[str, str, dict[str, Any]]
ClosedChanges = dict[str, tuple[dict[str, Any], list[Line]]]


@dataclass
class LedgerSnapshot:
    position: int
    facts: list[FactRow]
    closed: list[tuple[str, dict[str, Any], list[Line]]]


class LedgerView(Protocol):
    def load(self) -> LedgerSnapshot: ...

    def write(self, batch: Encoded, position: int) -> None:
        """A batch's changes, encoded beforehand (`encode`), with the position, in one transaction.
        Raises IntegrityError when another process has already tracked this position or later."""

    def reset(self) -> None:
        """Forgets everything, tracking position included, in one transaction."""


_TABLES = (
    "CREATE TABLE IF NOT EXISTS {facts} (kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, "
    "PRIMARY KEY (kind, key))",
    "CREATE TABLE IF NOT EXISTS {closed} (period TEXT PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {lines} (period TEXT NOT NULL, seq INTEGER NOT NULL, "
    "rep_id TEXT NOT NULL, kind TEXT NOT NULL, amount TEXT NOT NULL, plan TEXT NOT NULL, "
    "order_id TEXT, corrects TEXT, bonus_id TEXT, sources TEXT NOT NULL, explanation TEXT NOT NULL, "
    "PRIMARY KEY (period, seq))",
    "CREATE INDEX IF NOT EXISTS {lines_by_rep} ON {lines} (rep_id, period)",
)
# PostgreSQL takes each table's rows of a batch as one array per column, in one statement, as
# `doc_view` does (its reasons: a pipelined executemany costs a protocol message and a row of
# client-side work per row; arrays go in binary, the text form escapes each element with a regular
# expression). A batch never has a key twice: facts come from a set of keys, periods from a dict.
_UPSERT_FACTS = (
    "INSERT INTO {facts} (kind, key, doc) SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) "
    "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc"
)
_UPSERT_CLOSED_PERIODS = (
    "INSERT INTO {closed} (period, doc) SELECT * FROM unnest(%b::text[], %b::text[]) "
    "ON CONFLICT (period) DO UPDATE SET doc = excluded.doc"
)
_DELETE_PERIODS_LINES = "DELETE FROM {lines} WHERE period = ANY(%b::text[])"
_INSERT_LINES = (
    "INSERT INTO {lines} (period, seq, rep_id, kind, amount, plan, order_id, corrects, bonus_id, sources, "
    "explanation) SELECT * FROM unnest(%b::text[], %b::integer[], %b::text[], %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[])"
)
_UPSERT_FACT = (
    "INSERT INTO {facts} (kind, key, doc) VALUES ({p}, {p}, {p}) "
    "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc"
)
_UPSERT_CLOSED = (
    "INSERT INTO {closed} (period, doc) VALUES ({p}, {p}) "
    "ON CONFLICT (period) DO UPDATE SET doc = excluded.doc"
)
_DELETE_LINES = "DELETE FROM {lines} WHERE period = {p}"
_INSERT_LINE = "INSERT INTO {lines} VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
_CLEAR = ("DELETE FROM {facts}", "DELETE FROM {closed}", "DELETE FROM {lines}")
_SELECT_FACTS = "SELECT kind, key, doc FROM {facts}"
_SELECT_CLOSED = "SELECT period, doc FROM {closed} ORDER BY period"
_SELECT_LINES = (
    "SELECT period, rep_id, kind, amount, plan, order_id, corrects, bonus_id, sources, explanation "
    "FROM {lines} ORDER BY period, seq"
)


def _line_row(period: str, seq: int, line: Line) -> tuple[Any, ...]:
    return (
        period,
        seq,
        line.rep_id,
        line.kind,
        str(line.amount),
        line.plan,
        line.order_id,
        line.corrects,
        line.bonus_id,
        json.dumps(list(line.sources)),
        line.explanation,
    )


def _line(row: Sequence[Any]) -> Line:
    period, rep_id, kind, amount, plan, order_id, corrects, bonus_id, sources, explanation = row
    return Line(
        rep_id=rep_id,
        period=period,
        kind=kind,
        amount=Decimal(amount),
        plan=plan,
        order_id=order_id,
        corrects=corrects,
        bonus_id=bonus_id,
        sources=tuple(json.loads(sources)),
        explanation=explanation,
    )


def _snapshot(
    position: int | None,
    facts: Sequence[Sequence[Any]],
    closed: Sequence[Sequence[Any]],
    lines: Sequence[Sequence[Any]],
) -> LedgerSnapshot:
    by_period: dict[str, list[Line]] = {}
    for row in lines:
        by_period.setdefault(row[0], []).append(_line(row))
    return LedgerSnapshot(
        position=position or 0,
        facts=[(kind, key, json_text.loads(doc)) for kind, key, doc in facts],
        closed=[(period, json_text.loads(doc), by_period.get(period, [])) for period, doc in closed],
    )


@dataclass(frozen=True)
class Encoded:
    """A batch's changes as the view stores them, text only: it can be written by another thread while
    the fold goes on changing the documents it came from (a deal's stage, a closed period's reruns)."""

    facts: list[tuple[str, str, str]]  # kind, key, JSON document
    closed: list[tuple[str, str]]  # period, JSON document
    lines: list[tuple[Any, ...]]  # every line of those periods, which replace the ones saved


def encode(facts: list[FactRow], closed: ClosedChanges) -> Encoded:
    return Encoded(
        facts=[(kind, key, json_text.dumps(doc)) for kind, key, doc in facts],
        closed=[(period, json_text.dumps(doc)) for period, (doc, _) in closed.items()],
        lines=[
            _line_row(period, seq, line)
            for period, (_, lines) in closed.items()
            for seq, line in enumerate(lines)
        ],
    )


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


class SQLiteLedgerView(SQLiteTrackingRecorder):
    NAMES = {"facts": "ledger_facts", "closed": "ledger_closed", "lines": "ledger_lines"}

    def _sql(self, template: str) -> str:
        return template.format(p="?", lines_by_rep="ledger_lines_by_rep", **self.NAMES)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self._sql(t) for t in _TABLES)]

    def load(self) -> LedgerSnapshot:
        with self.datastore.transaction(commit=False) as c:
            position = self._max_tracking_id(LEDGER_TRACKING, c)
            c.execute(self._sql(_SELECT_FACTS))
            facts = list(c.fetchall())
            c.execute(self._sql(_SELECT_CLOSED))
            closed = list(c.fetchall())
            c.execute(self._sql(_SELECT_LINES))
            lines = list(c.fetchall())
        return _snapshot(position, facts, closed, lines)

    def write(self, batch: Encoded, position: int) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, Tracking(LEDGER_TRACKING, position))
            c.executemany(self._sql(_UPSERT_FACT), batch.facts)
            c.executemany(self._sql(_UPSERT_CLOSED), batch.closed)
            c.executemany(self._sql(_DELETE_LINES), [(period,) for period, _ in batch.closed])
            c.executemany(self._sql(_INSERT_LINE), batch.lines)

    def reset(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            for statement in _CLEAR:
                c.execute(self._sql(statement))
            c.execute("DELETE FROM tracking WHERE application_name = ?", (LEDGER_TRACKING,))


class PostgresLedgerView(PostgresTrackingRecorder):
    def _sql(self, template: str) -> SQL:
        schema = self.datastore.schema
        names = {
            name: Identifier(schema, f"ledger_{name}").as_string() for name in ("facts", "closed", "lines")
        }
        return SQL(template.format(p="%s", lines_by_rep="ledger_lines_by_rep", **names))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(self._sql(t).format() for t in _TABLES)
        self._statements = {
            t: self._sql(t)
            for t in (_UPSERT_FACTS, _UPSERT_CLOSED_PERIODS, _DELETE_PERIODS_LINES, _INSERT_LINES)
        }

    def load(self) -> LedgerSnapshot:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.max_tracking_id_statement, (LEDGER_TRACKING,))
            row = curs.fetchone()
            position = None if row is None else row["max"]
            facts = [(r["kind"], r["key"], r["doc"]) for r in curs.execute(self._sql(_SELECT_FACTS))]
            closed = [(r["period"], r["doc"]) for r in curs.execute(self._sql(_SELECT_CLOSED))]
            lines = [tuple(r.values()) for r in curs.execute(self._sql(_SELECT_LINES))]
        return _snapshot(position, facts, closed, lines)

    def write(self, batch: Encoded, position: int) -> None:
        with self.datastore.transaction(commit=True) as curs:
            # The ledger is derived from the store, as a read model is: if the server crashes before
            # this commit reaches the disk, its rows and its tracking position are lost together, and
            # the fold resumes from the position before. So the commit need not wait for the flush.
            curs.execute("SET LOCAL synchronous_commit TO OFF")
            self._insert_tracking(curs, Tracking(LEDGER_TRACKING, position))
            if batch.facts:
                curs.execute(self._statements[_UPSERT_FACTS], _columns(batch.facts))
            if batch.closed:
                curs.execute(self._statements[_UPSERT_CLOSED_PERIODS], _columns(batch.closed))
                periods = [period for period, _ in batch.closed]
                curs.execute(self._statements[_DELETE_PERIODS_LINES], (periods,))
            if batch.lines:
                curs.execute(self._statements[_INSERT_LINES], _columns(batch.lines))

    def reset(self) -> None:
        tracking = Identifier(self.datastore.schema, self.tracking_table_name)
        with self.datastore.transaction(commit=True) as curs:
            for statement in _CLEAR:
                curs.execute(self._sql(statement))
            curs.execute(
                SQL("DELETE FROM {0} WHERE application_name = %s").format(tracking), (LEDGER_TRACKING,)
            )


__all__ = ["LEDGER_TRACKING", "Encoded", "IntegrityError", "LedgerSnapshot", "LedgerView", "encode"]
