"""The audit trail on both stores: a subject's events in order with actor and both times, the state as
of any instant (business or recorded time), and a hash chain that names where history was altered."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import psycopg
import pytest

from adapters.persistence import open_store
from adapters.projection_runner import ProjectionRunner, open_doc_view
from projections.audit_trail import AuditTrail
from projections.read_model import DocChange
from tests.cli import salesledger
from tests.conftest import SCENARIOS

HISTORY = SCENARIOS / "small-org" / "history.jsonl"


@pytest.fixture
def imported(database_url: str) -> str:
    result = salesledger(database_url, "import", str(HISTORY), "--format", "json")
    assert json.loads(result.stdout)["accepted"] == 218, result.stderr
    return database_url


def audit(database_url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = salesledger(database_url, "audit", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_deal_trail_and_its_state_as_of_business_and_recorded_time(imported: str) -> None:
    trail = audit(imported, "deal", "d-001")
    events = trail["events"]
    assert events[0]["type"] == "Deal.Opened"
    assert events[0]["actor"] == "r-ch1"
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    assert all(e["recorded_at"] and e["occurred_at"] for e in events)
    moves = [e["changes"]["to_stage"] for e in events if e["type"] == "Deal.StageMoved"]
    assert moves[:2] == ["qualified", "needs_confirmed"]

    # d-001: opened 01-20, call 01-22, qualified 01-23 05:00, call 01-23 15:00, needs_confirmed 01-25.
    then = audit(imported, "deal", "d-001", "--as-of", "2026-01-24T00:00:00+08:00", "--by", "business")
    assert then["state"]["stage"] == "qualified"
    assert then["state"]["activities"] == {"call": 2}
    assert [e["position"] for e in then["events"]] == positions[:4]
    before = audit(imported, "deal", "d-001", "--as-of", "2026-01-19T00:00:00+08:00", "--by", "business")
    assert before["state"] is None and before["events"] == []

    # By recorded time: as of the moment the third event was recorded, the first three count.
    third = datetime.fromisoformat(events[2]["recorded_at"])
    later = [e for e in events if datetime.fromisoformat(e["recorded_at"]) <= third]
    recorded = audit(imported, "deal", "d-001", "--as-of", third.isoformat(), "--by", "recorded")
    assert recorded["state"]["version"] == len(later)


def test_period_trail_and_unknown_subjects(imported: str) -> None:
    trail = audit(imported, "period", "2026-01")
    kinds = [e["type"] for e in trail["events"]]
    assert kinds == ["LedgerPeriods.PeriodClosed", "LedgerPeriods.RerunApplied"]
    assert trail["events"][1]["actor"] == "cfo"
    missing = salesledger(imported, "audit", "deal", "nope")
    assert missing.returncode != 0
    assert "deal_id" in missing.stderr
    naive = salesledger(imported, "audit", "deal", "d-001", "--as-of", "2026-01-24T00:00:00")
    assert naive.returncode != 0
    assert "timezone" in naive.stderr


def test_verify_names_the_first_altered_position(imported: str) -> None:
    intact = salesledger(imported, "audit", "verify", "--format", "json")
    assert intact.returncode == 0, intact.stderr
    assert json.loads(intact.stdout)["intact"] is True

    before = audit(imported, "deal", "d-003")["events"]
    assert all(e["intact"] for e in before)
    # Each entry carries its link: the previous entry's hash when it is the chain's previous event.
    assert all(e["hash"] and len(e["previous_hash"]) == 64 for e in before)
    target = before[2]["position"]
    _tamper(imported, target)
    broken = salesledger(imported, "audit", "verify", "--format", "json")
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_difference"] == target
    # The trail reads the edited event from the store, and says its link no longer holds.
    after = audit(imported, "deal", "d-003")["events"]
    assert [e["position"] for e in after if not e["intact"]] == [target]
    assert after[2]["changes"] != before[2]["changes"]
    assert [e["hash"] for e in after] == [e["hash"] for e in before]


def _altered(state: bytes) -> bytes:
    """The same event with one of its values changed: a semantic edit, not a reformatting."""
    body = json.loads(state)
    field = next(k for k, v in sorted(body.items()) if isinstance(v, str))
    body[field] += "-edited"
    return json.dumps(body).encode()


def _tamper(database_url: str, position: int) -> None:
    """Edit one stored event in place, as someone with database access might."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            row = db.execute("SELECT rowid, state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (_altered(row[1]), row[0]))
        return
    url, _, schema = database_url.partition("?schema=")
    with psycopg.connect(url, autocommit=True) as db:
        table = f'"{schema}".salesledger_events'
        found = db.execute(f"SELECT state FROM {table} WHERE notification_id = %s", (position,)).fetchone()
        assert found is not None
        db.execute(
            f"UPDATE {table} SET state = %s WHERE notification_id = %s", (_altered(bytes(found[0])), position)
        )


def test_an_audit_read_model_saved_by_an_earlier_version_is_rebuilt(database_url: str) -> None:
    imported = salesledger(database_url, "import", str(HISTORY), "--format", "json")
    assert json.loads(imported.stdout)["accepted"] == 218, imported.stderr
    store = open_store(database_url)
    try:
        view = open_doc_view(store)
        # What the audit read model saved before its links: an entry per event and a bare head.
        entry = DocChange(
            "entry", f"{40:012d}", {"position": 40, "hash": "a" * 64}, "deal:d-001", f"{40:012d}"
        )
        head = DocChange("chain", "head", {"position": 40, "hash": "a" * 64})
        view.save("audit", [entry, head], [], 40)
        runner = ProjectionRunner(store, view, AuditTrail)
        assert runner.position == 0
        assert view.everything("audit") == []
        stored = store.recorder.max_notification_id()
    finally:
        store.close()
    verified = salesledger(database_url, "audit", "verify", "--format", "json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["checked"] == stored
