"""`salesledger payroll run|diff|apply|export|statement` and `plan publish`, through the real CLI
on both stores, against the public small-org scenario."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.persistence import open_store
from tests.cli import salesledger
from tests.conftest import SCENARIOS, event_count

SCENARIO = SCENARIOS / "small-org"
EXPORT_HEADER = [
    "period",
    "rep_id",
    "kind",
    "amount",
    "plan",
    "order_id",
    "corrects",
    "bonus_id",
    "sources",
    "explanation",
]

PLAN_V3 = """\
name: standard
version: 3
effective_from: 2026-04
rates: {first_order: 0.05, repeat_order: 0.02}
accelerators:
  mode: marginal
  bands: [{from: 0.0, multiplier: 1.0}, {from: 1.0, multiplier: 1.5}, {from: 1.5, multiplier: 2.0}]
bonuses:
  - {id: big-first-order, when: "WHEN", rate: 0.008}
clawback_days: 90
scorecard:
  weights: {sales: 0.4, margin: 0.3, nps: 0.2, process: 0.1}
  cap: 1.5
"""
GOOD_WHEN = "order.first_order && order.gross_margin >= 50000"


@pytest.fixture
def imported(database_url: str) -> str:
    result = salesledger(database_url, "import", str(SCENARIO / "history.jsonl"), "--format", "json")
    assert json.loads(result.stdout)["accepted"] == 218, result.stderr
    return database_url


def _json(database_url: str, *args: str) -> Any:
    result = salesledger(database_url, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _expected_totals(name: str) -> dict[str, str]:
    return json.loads((SCENARIO / name).read_text())["totals"]


def _events(database_url: str) -> int:
    store = open_store(database_url)
    try:
        return event_count(store)
    finally:
        store.close()


def _plan_file(tmp_path: Path, name: str, *, version: int = 3, when: str = GOOD_WHEN, **replace: str) -> Path:
    text = PLAN_V3.replace("version: 3", f"version: {version}").replace("WHEN", when)
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _failure(result: Any) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr


# -- diff ---------------------------------------------------------------------------------------


def test_diff_compares_the_posted_period_with_the_candidate_plan(imported: str) -> None:
    diff = _json(imported, "payroll", "diff", "--period", "2026-02", "--plan", "standard@2")
    assert diff["period"] == "2026-02"
    assert diff["closed"] is True
    assert diff["live_plan"] == "standard@1"
    assert diff["plan"] == "standard@2"

    live = {rep["rep_id"]: rep["live"] for rep in diff["reps"]}
    candidate = {rep["rep_id"]: rep["candidate"] for rep in diff["reps"]}
    assert live == _expected_totals("payroll-2026-02.json")
    assert candidate == _expected_totals("sandbox-2026-02-standard@2.json")
    for rep in diff["reps"]:
        assert Decimal(rep["difference"]) == Decimal(rep["candidate"]) - Decimal(rep["live"]), rep
    assert any(Decimal(rep["difference"]) != 0 for rep in diff["reps"])
    total = diff["total"]
    assert Decimal(total["difference"]) == Decimal(total["candidate"]) - Decimal(total["live"])
    assert Decimal(total["live"]) == sum(map(Decimal, live.values()))
    assert Decimal(total["candidate"]) == sum(map(Decimal, candidate.values()))


# -- apply --------------------------------------------------------------------------------------


def test_apply_posts_the_diff_as_adjustments_in_the_first_open_period(imported: str) -> None:
    diff = _json(imported, "payroll", "diff", "--period", "2026-02", "--plan", "standard@2")
    differences = {rep["rep_id"]: Decimal(rep["difference"]) for rep in diff["reps"]}
    closed_before = salesledger(imported, "payroll", "run", "--period", "2026-02", "--format", "json")
    assert closed_before.returncode == 0, closed_before.stderr
    open_before = _json(imported, "payroll", "run", "--period", "2026-03")

    arguments = ("payroll", "apply", "--period", "2026-02", "--plan", "standard@2", "--approved-by", "cfo")
    applied = _json(imported, *arguments, "--command-id", "rerun-2026-02")
    assert applied["status"] == "applied"
    assert applied["posted_in"] == "2026-03"
    assert applied["adjustments"] == {
        rep_id: f"{amount:.2f}" for rep_id, amount in differences.items() if amount != 0
    }

    after = _json(imported, "payroll", "run", "--period", "2026-03")
    corrections: defaultdict[str, list[Decimal]] = defaultdict(list)
    for line in after["lines"]:
        if line["kind"] == "adjustment" and line["corrects"] == "2026-02":
            assert line["plan"] == "standard@2"
            assert line["sources"]
            corrections[line["rep_id"]].append(Decimal(line["amount"]))
    for rep_id, difference in differences.items():
        # One adjustment per rep and corrected period; a zero one is left out.
        assert corrections.get(rep_id, []) == ([difference] if difference != 0 else []), rep_id
    assert set(corrections) <= set(differences)
    for rep_id, total in after["totals"].items():
        previous = Decimal(open_before["totals"].get(rep_id, "0"))
        assert Decimal(total) == previous + differences.get(rep_id, Decimal(0)), rep_id

    # The closed period's own lines are frozen: byte-identical output.
    closed_after = salesledger(imported, "payroll", "run", "--period", "2026-02", "--format", "json")
    assert closed_after.stdout == closed_before.stdout

    # A retry with the same command id is acknowledged and posts nothing more.
    events = _events(imported)
    again = _json(imported, *arguments, "--command-id", "rerun-2026-02")
    assert again["status"] == "duplicate"
    assert _events(imported) == events
    assert _json(imported, "payroll", "run", "--period", "2026-03") == after


def test_apply_refuses_an_open_period_and_an_unknown_plan(imported: str) -> None:
    events = _events(imported)
    open_period = salesledger(
        imported, "payroll", "apply", "--period", "2026-03", "--plan", "standard@2", "--approved-by", "cfo"
    )
    assert "period" in _failure(open_period)
    unknown = salesledger(
        imported, "payroll", "apply", "--period", "2026-02", "--plan", "nope@9", "--approved-by", "cfo"
    )
    error = _failure(unknown)
    assert "plan" in error and "nope@9" in error
    assert _events(imported) == events


# -- export -------------------------------------------------------------------------------------


def test_export_lines_and_per_rep_totals_match_the_run(imported: str, tmp_path: Path) -> None:
    run = _json(imported, "payroll", "run", "--period", "2026-03")
    assert run["totals"]

    result = salesledger(imported, "payroll", "export", "--period", "2026-03")
    assert result.returncode == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout, newline=""))
    assert reader.fieldnames == EXPORT_HEADER
    rows = list(reader)
    assert len(rows) == len(run["lines"])
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert row["period"] == "2026-03"
        assert row["sources"] and row["explanation"], row
        sums[row["rep_id"]] += Decimal(row["amount"])
    assert {rep_id: f"{amount:.2f}" for rep_id, amount in sums.items()} == run["totals"]

    by_rep = salesledger(imported, "payroll", "export", "--period", "2026-03", "--by", "rep")
    assert by_rep.returncode == 0, by_rep.stderr
    rep_rows = list(csv.DictReader(io.StringIO(by_rep.stdout, newline="")))
    assert [row["rep_id"] for row in rep_rows] == sorted(run["totals"])
    assert {row["rep_id"]: row["amount"] for row in rep_rows} == run["totals"]
    assert {row["period"] for row in rep_rows} == {"2026-03"}

    target = tmp_path / "export.csv"
    to_file = salesledger(imported, "payroll", "export", "--period", "2026-03", "-o", str(target))
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""
    assert target.read_text(encoding="utf-8") == result.stdout


# -- statement ----------------------------------------------------------------------------------


def test_statement_explains_every_figure_down_to_its_events(imported: str) -> None:
    run = _json(imported, "payroll", "run", "--period", "2026-03")
    statement = _json(imported, "payroll", "statement", "--rep", "r-ka1", "--period", "2026-03")
    assert statement["rep_id"] == "r-ka1"
    assert statement["period"] == "2026-03"
    assert statement["closed"] is False
    assert statement["total"] == run["totals"]["r-ka1"]
    own = [line for line in run["lines"] if line["rep_id"] == "r-ka1"]
    assert len(statement["lines"]) == len(own)
    assert sum(Decimal(line["amount"]) for line in statement["lines"]) == Decimal(statement["total"])

    events = statement["events"]
    for line in statement["lines"]:
        assert line["explanation"].strip(), line
        assert line["sources"], line
        for source in line["sources"]:
            assert source in events, source
            assert events[source]["type"], source
            assert events[source]["occurred_at"], source
    types = {event["type"] for event in events.values()}
    assert "Order.Booked" in types

    history = [json.loads(line) for line in (SCENARIO / "history.jsonl").read_text().splitlines() if line]
    published = {
        f"{cmd['plan']['name']}@{cmd['plan']['version']}": cmd["plan"]
        for cmd in history
        if cmd.get("type") == "PublishPlan"
    }
    assert set(statement["plans"]) == {"standard@2"}
    assert statement["plans"]["standard@2"] == published["standard@2"]

    text = salesledger(imported, "payroll", "statement", "--rep", "r-ka1", "--period", "2026-03")
    assert text.returncode == 0, text.stderr
    printed = {row.strip() for row in text.stdout.splitlines()}
    for line in statement["lines"]:
        assert line["explanation"].strip() in printed, line["explanation"]
    assert statement["total"] in text.stdout


# -- plan publish -------------------------------------------------------------------------------


def test_plan_publish_validates_in_full_and_is_idempotent(database_url: str, tmp_path: Path) -> None:
    bad_rate = _plan_file(tmp_path, "bad-rate.yaml", **{"first_order: 0.05": "first_order: 1.5"})
    bad_syntax = _plan_file(tmp_path, "bad-syntax.yaml", when="order.first_order &&")
    bad_field = _plan_file(tmp_path, "bad-field.yaml", when="order.no_such_field > 1")
    for path in (bad_rate, bad_syntax, bad_field):
        # Same name@version as the good plan: a refusal must not burn its derived command id either.
        assert path.read_text().startswith("name: standard\nversion: 3\n")

    assert "plan.rates.first_order" in _failure(salesledger(database_url, "plan", "publish", str(bad_rate)))
    syntax = _failure(salesledger(database_url, "plan", "publish", str(bad_syntax)))
    assert "plan.bonuses.0.when" in syntax
    assert "line 1" in syntax and "column" in syntax
    field = _failure(salesledger(database_url, "plan", "publish", str(bad_field)))
    assert "plan.bonuses.0.when" in field and "no_such_field" in field

    # Nothing was written by the refusals.
    assert _events(database_url) == 0
    unknown = salesledger(database_url, "payroll", "run", "--period", "2026-04", "--plan", "standard@3")
    assert "plan" in _failure(unknown)

    good = _plan_file(tmp_path, "standard-3.yaml")
    first = _json(database_url, "plan", "publish", str(good))
    assert first == {"plan": "standard@3", "status": "applied", "position": first["position"]}
    assert first["position"]
    events = _events(database_url)
    assert events > 0
    second = _json(database_url, "plan", "publish", str(good))
    assert second["plan"] == "standard@3"
    assert second["status"] == "duplicate"
    assert _events(database_url) == events

    # The same name@version with other content reuses the derived command id: refused.
    edited = _plan_file(tmp_path, "standard-3-edited.yaml", **{"clawback_days: 90": "clawback_days: 30"})
    assert "command_id" in _failure(salesledger(database_url, "plan", "publish", str(edited)))
    assert _events(database_url) == events

    sandbox = _json(database_url, "payroll", "run", "--period", "2026-04", "--plan", "standard@3")
    assert sandbox["period"] == "2026-04"


# -- argument errors ----------------------------------------------------------------------------


def test_run_refuses_a_bad_period_and_an_unknown_plan(imported: str) -> None:
    bad_period = salesledger(imported, "payroll", "run", "--period", "2026-13")
    error = _failure(bad_period)
    assert "--period" in error and "YYYY-MM" in error
    unknown = salesledger(imported, "payroll", "run", "--period", "2026-03", "--plan", "nope@1")
    error = _failure(unknown)
    assert "plan" in error and "nope@1" in error
