"""`salesledger import` of the public scenario, through the real CLI, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.persistence import open_store
from tests.cli import salesledger
from tests.conftest import SCENARIOS, event_count

HISTORY = SCENARIOS / "small-org" / "history.jsonl"
# Moves refused on purpose: gates (blocked, recorded) and moves to the stage a deal is in.
BLOCKED = {47, 103, 168, 204, 215}
SAME_STAGE = {71, 98, 105, 157, 188}


def test_import_reports_refused_lines_and_reimport_applies_nothing(database_url: str) -> None:
    first = salesledger(database_url, "import", str(HISTORY), "--format", "json")
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    assert {r["line"] for r in report["rejected"]} == BLOCKED | SAME_STAGE
    assert report["accepted"] == 228 - len(BLOCKED | SAME_STAGE)
    for rejection in report["rejected"]:
        assert rejection["error"].startswith("to_stage: ")
    store = open_store(database_url)
    written = event_count(store)
    store.close()

    second = salesledger(database_url, "import", str(HISTORY), "--format", "json")
    again = json.loads(second.stdout)
    assert again["accepted"] == 0
    # Blocked attempts were recorded with their command_id: they are acknowledged, not re-recorded.
    assert again["duplicates"] == report["accepted"] + len(BLOCKED)
    assert {r["line"] for r in again["rejected"]} == SAME_STAGE
    store = open_store(database_url)
    assert event_count(store) == written
    store.close()


def test_import_goes_on_past_malformed_lines(database_url: str, tmp_path: Path) -> None:
    lines = HISTORY.read_text().splitlines()[:3]
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([lines[0], "{not json", '{"type": "Nope"}', lines[1], "", lines[2]]) + "\n")
    result = salesledger(database_url, "import", str(broken), "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["accepted"] == 3
    assert [r["line"] for r in report["rejected"]] == [2, 3]
    assert report["rejected"][0]["error"].startswith("json: malformed JSON at column 2")
    assert report["rejected"][1]["error"].startswith(
        "type: Input tag 'Nope' found using 'type' does not match"
    )


def test_text_report_names_lines(database_url: str, tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(HISTORY.read_text().splitlines()[:5]) + "\n")
    result = salesledger(database_url, "import", str(clean))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "accepted 5, duplicates 0, rejected 0"
