"""`salesledger demo` end to end, small: a fresh store simulated and imported, every projection caught
up, the summary printed, and an admin token that the served API accepts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from adapters.bootstrap import bootstrap
from adapters.cli_demo import history_start, last_period
from adapters.http_app import create_app
from tests.cli import salesledger

STAGES = ("lead", "qualified", "needs_confirmed", "solution_demo", "quotation", "negotiation")
SMALL = ("demo", "--reps", "6", "--months", "2", "--no-serve")


def demo(url: str, *args: str) -> tuple[int, str, str]:
    # The demo's store is its own --db; the environment's store must stay untouched.
    done = salesledger("sqlite:///unused-by-demo.db", *SMALL, "--db", url, *args)
    return done.returncode, done.stdout, done.stderr


def head(url: str) -> int:
    done = salesledger(url, "projections", "status", "--format", "json")
    assert done.returncode == 0, done.stderr
    [position] = {p["head"] for p in json.loads(done.stdout)["projections"]}
    return int(position)


def test_the_history_ends_with_the_month_before_now() -> None:
    assert history_start(datetime(2026, 12, 4, tzinfo=UTC), 12) == "2025-12"
    assert history_start(datetime(2026, 1, 31, tzinfo=UTC), 1) == "2025-12"
    assert last_period("2025-12", 12) == "2026-11"
    assert last_period("2026-01", 1) == "2026-01"


def test_demo_prints_a_summary_and_a_token_the_api_accepts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    status, out, err = demo(url)
    assert status == 0, err
    for heading in ("Simulated 6 reps", "Funnel ", "SLA board", "Payroll ", "Rerun diff", "Dashboard:"):
        assert heading in out, (heading, out)
    for stage in STAGES:
        assert re.search(rf"^  {stage} +\d+", out, re.MULTILINE), (stage, out)
    for department in ("presales", "legal", "delivery"):
        assert re.search(rf"^  {department} +\d+", out, re.MULTILINE), (department, out)
    [secret] = re.findall(r"^Admin token: (slt_\S+)$", out, re.MULTILINE)
    assert f"http://127.0.0.1:8000/static/index.html#token={secret}" in out
    assert not Path("unused-by-demo.db").exists()

    status_json = salesledger(url, "projections", "status", "--format", "json")
    assert status_json.returncode == 0, status_json.stderr
    lags = {p["projection"]: p["lag"] for p in json.loads(status_json.stdout)["projections"]}
    assert set(lags) >= {"ledger", "audit", "funnel", "collaboration", "customer360"}
    assert set(lags.values()) == {0}, lags

    service = bootstrap(url)
    try:
        with TestClient(create_app(service)) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            assert client.get("/whoami", headers=headers).json()["role"] == "admin"
            home = client.get("/", follow_redirects=False)
            assert home.status_code == 307 and home.headers["location"] == "/static/index.html"
    finally:
        service.close()


def test_demo_refuses_a_store_that_holds_a_history_unless_fresh(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first, out, _ = demo(url, "--start", "2026-01", "--format", "json")
    assert first == 0
    document = json.loads(out)
    assert document["periods"] == ["2026-01", "2026-02"]
    assert document["accepted"] + document["refused"] == document["commands"] > 100
    assert [row["stage"] for row in document["funnel"]["stages"]] == list(STAGES)
    assert document["funnel"]["period"] == "2026-02"
    assert document["payroll"]["period"] == "2026-01" and document["payroll"]["reps"] > 0
    # 2026-01 was rerun under standard@2 in the history; the demo diffs it against the other plan.
    assert document["rerun"]["live_plan"] == "standard@2" and document["rerun"]["plan"] == "standard@1"

    written = head(url)

    again, _, err = demo(url)
    assert again == 1
    assert "--db: " in err and "already holds a history; pass --fresh" in err

    fresh, out, err = demo(url, "--fresh", "--start", "2026-01", "--format", "json")
    assert fresh == 0, err
    # Same seed, same history: started anew, not added to the old one.
    assert json.loads(out)["commands"] == document["commands"]
    assert head(url) == written
