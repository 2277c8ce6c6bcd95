"""The public scenario's expected payroll, reproduced exactly through the real CLI on both stores."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli import salesledger
from tests.conftest import SCENARIOS

SCENARIO = SCENARIOS / "small-org"
EXPECTED = sorted(SCENARIO.glob("payroll-*.json")) + sorted(SCENARIO.glob("sandbox-*.json"))
KEYS = ("rep_id", "kind", "amount", "plan", "order_id", "corrects")


def _arguments(expected: Path) -> list[str]:
    # payroll-2026-01.json is the live ledger; sandbox-2026-02-standard@2.json a run under a plan.
    parts = expected.stem.split("-")
    if parts[0] == "payroll":
        return ["--period", f"{parts[1]}-{parts[2]}"]
    return ["--period", f"{parts[1]}-{parts[2]}", "--plan", "-".join(parts[3:])]


def _multiset(lines: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(line.get(key) for key in KEYS) for line in lines)


@pytest.fixture
def imported(database_url: str) -> str:
    result = salesledger(database_url, "import", str(SCENARIO / "history.jsonl"), "--format", "json")
    assert json.loads(result.stdout)["accepted"] == 218, result.stderr
    return database_url


def test_every_expected_payroll_is_reproduced_exactly(imported: str) -> None:
    assert EXPECTED, f"no expected payroll files in {SCENARIO}"
    for expected_file in EXPECTED:
        expected = json.loads(expected_file.read_text())
        result = salesledger(imported, "payroll", "run", *_arguments(expected_file), "--format", "json")
        assert result.returncode == 0, result.stderr
        actual = json.loads(result.stdout)
        assert actual["period"] == expected["period"]
        assert actual["totals"] == expected["totals"], expected_file.name
        assert _multiset(actual["lines"]) == _multiset(expected["lines"]), expected_file.name
        for line in actual["lines"]:
            assert line["sources"], f"{expected_file.name}: a line without sources: {line}"


def test_a_sandbox_run_writes_nothing_and_output_is_stable(imported: str) -> None:
    live = salesledger(imported, "payroll", "run", "--period", "2026-03", "--format", "json")
    sandbox = salesledger(
        imported, "payroll", "run", "--period", "2026-02", "--plan", "standard@2", "--format", "json"
    )
    assert sandbox.returncode == 0, sandbox.stderr
    again = salesledger(imported, "payroll", "run", "--period", "2026-03", "--format", "json")
    assert live.stdout == again.stdout
