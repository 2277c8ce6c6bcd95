"""Wire-format command builders for given/when/then tests; every id carries a per-test token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from adapters.importer import import_lines
from adapters.persistence import open_store
from adapters.simulation import simulate
from commands.context import Context
from commands.executor import Executor, Outcome
from commands.parsing import InvalidCommand, parse_command
from commands.store import EventStore

Cmd = dict[str, Any]
EVIDENCE = {"uri": "photos/a.jpg", "sha256": "ab" * 32, "taken_at": "2026-01-05T10:00:00+08:00"}


def token() -> str:
    return uuid4().hex[:8]


def at(day: int, hour: int = 9) -> str:
    return f"2026-01-{day:02d}T{hour:02d}:00:00+08:00"


def org(t: str) -> list[Cmd]:
    return [
        {
            "type": "OnboardRep",
            "rep_id": f"ka-{t}",
            "name": "张伟",
            "role": "key_account",
            "team": "east",
            "region": "CN-E",
            "occurred_at": at(1),
        },
        {
            "type": "OnboardRep",
            "rep_id": f"smb-{t}",
            "name": "Li Na",
            "role": "smb",
            "team": "south",
            "region": "CN-S",
            "occurred_at": at(1),
        },
        {
            "type": "RegisterCustomer",
            "customer_id": f"c-{t}",
            "name": "Acme",
            "industry": "retail",
            "region": "CN-E",
            "occurred_at": at(1),
        },
    ]


def open_deal(t: str, owner: str = "smb", deal: str = "d", day: int = 2) -> Cmd:
    return {
        "type": "OpenDeal",
        "deal_id": f"{deal}-{t}",
        "customer_id": f"c-{t}",
        "owner_rep_id": f"{owner}-{t}",
        "expected_amount": "100000",
        "occurred_at": at(day),
    }


def activity(t: str, kind: str, rep: str = "smb", deal: str = "d", day: int = 3) -> Cmd:
    cmd: Cmd = {
        "type": "LogActivity",
        "deal_id": f"{deal}-{t}",
        "rep_id": f"{rep}-{t}",
        "kind": kind,
        "occurred_at": at(day),
    }
    if kind in ("visit", "deep_visit"):
        cmd["evidence"] = EVIDENCE
    return cmd


def move(t: str, to: str, rep: str = "smb", deal: str = "d", day: int = 4, hour: int = 9) -> Cmd:
    return {
        "type": "MoveStage",
        "deal_id": f"{deal}-{t}",
        "rep_id": f"{rep}-{t}",
        "to_stage": to,
        "occurred_at": at(day, hour),
    }


def quotation_paperwork(t: str, deal: str = "d") -> list[Cmd]:
    return [
        {
            "type": "AttachDocument",
            "deal_id": f"{deal}-{t}",
            "kind": "meeting_minutes",
            "name": "m.pdf",
            "occurred_at": at(3),
        },
        {
            "type": "SubmitDemoReport",
            "deal_id": f"{deal}-{t}",
            "audience_role": "CTO",
            "product_line": "PLC",
            "outcome": "positive",
            "notes": "ok",
            "occurred_at": at(3),
        },
    ]


def plan(version: int = 1, effective_from: str = "2026-01", when: str = "order.first_order") -> Cmd:
    return {
        "type": "PublishPlan",
        "plan": {
            "name": "standard",
            "version": version,
            "effective_from": effective_from,
            "rates": {"first_order": "0.04", "repeat_order": "0.02"},
            "accelerators": {
                "mode": "marginal",
                "bands": [{"from": "0", "multiplier": "1"}, {"from": "1", "multiplier": "1.5"}],
            },
            "bonuses": [{"id": "b", "when": when, "rate": "0.008"}],
            "clawback_days": 90,
        },
    }


def run(executor: Executor, *commands: Cmd) -> list[Outcome]:
    outcomes = []
    for data in commands:
        try:
            command = parse_command(data)
        except InvalidCommand as invalid:
            outcomes.append(Outcome("refused", str(invalid)))
            continue
        outcomes.append(executor.execute(command))
    return outcomes


def given(executor: Executor, *commands: Cmd) -> None:
    for outcome, data in zip(run(executor, *commands), commands, strict=True):
        assert outcome.accepted, f"{data['type']} refused: {outcome.error}"


def book(t: str, amount: str = "100", margin: str = "10", day: int = 3, order: str = "o") -> Cmd:
    return {
        "type": "BookOrder",
        "order_id": f"{order}-{t}",
        "deal_id": f"d-{t}",
        "amount": amount,
        "gross_margin": margin,
        "signed_on": f"2026-01-{day:02d}",
        "occurred_at": at(day, 10),
    }


def simulated_sqlite_store(directory: Path, *, reps: int, deals: int, months: int, seed: int) -> EventStore:
    """A SQLite store in `directory` holding a simulated history, imported as `salesledger import` does."""
    store = open_store(f"sqlite:///{directory / 'salesledger.db'}")
    lines = [json.dumps(c) for c in simulate(reps=reps, deals=deals, months=months, seed=seed)]
    report = import_lines(Executor(store, Context(clock=lambda: datetime(2026, 6, 1, tzinfo=UTC))), lines)
    assert report.accepted > 0
    return store
