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

    def save(self, facts: list[FactRow], closed: ClosedChanges, position: int) -> None:
        """Raises IntegrityError when another process has already tracked this position or later."""

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


def _writes(facts: list[FactRow], closed: ClosedChanges) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    fact_rows = [(kind, key, json_text.dumps(doc)) for kind, key, doc in facts]
    closed_rows = [(period, json_text.dumps(doc)) for period, (doc, _) in closed.items()]
    deletes = [(period,) for period in closed]
    line_rows = [
        _line_row(period, seq, line)
        for period, (_, lines) in closed.items()
        for seq, line in enumerate(lines)
    ]
    return fact_rows, closed_rows, deletes, line_rows


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

    def save(self, facts: list[FactRow], closed: ClosedChanges, position: int) -> None:
        fact_rows, closed_rows, deletes, line_rows = _writes(facts, closed)
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, Tracking(LEDGER_TRACKING, position))
            c.executemany(self._sql(_UPSERT_FACT), fact_rows)
            c.executemany(self._sql(_UPSERT_CLOSED), closed_rows)
            c.executemany(self._sql(_DELETE_LINES), deletes)
            c.executemany(self._sql(_INSERT_LINE), line_rows)

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

    def load(self) -> LedgerSnapshot:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.max_tracking_id_statement, (LEDGER_TRACKING,))
            row = curs.fetchone()
            position = None if row is None else row["max"]
            facts = [(r["kind"], r["key"], r["doc"]) for r in curs.execute(self._sql(_SELECT_FACTS))]
            closed = [(r["period"], r["doc"]) for r in curs.execute(self._sql(_SELECT_CLOSED))]
            lines = [tuple(r.values()) for r in curs.execute(self._sql(_SELECT_LINES))]
        return _snapshot(position, facts, closed, lines)

    def save(self, facts: list[FactRow], closed: ClosedChanges, position: int) -> None:
        fact_rows, closed_rows, deletes, line_rows = _writes(facts, closed)
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, Tracking(LEDGER_TRACKING, position))
            for statement, rows in (
                (_UPSERT_FACT, fact_rows),
                (_UPSERT_CLOSED, closed_rows),
                (_DELETE_LINES, deletes),
                (_INSERT_LINE, line_rows),
            ):
                if rows:
                    curs.executemany(self._sql(statement), rows)

    def reset(self) -> None:
        tracking = Identifier(self.datastore.schema, self.tracking_table_name)
        with self.datastore.transaction(commit=True) as curs:
            for statement in _CLEAR:
                curs.execute(self._sql(statement))
            curs.execute(
                SQL("DELETE FROM {0} WHERE application_name = %s").format(tracking), (LEDGER_TRACKING,)
            )


__all__ = ["LEDGER_TRACKING", "IntegrityError", "LedgerSnapshot", "LedgerView"]
