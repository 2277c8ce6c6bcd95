"""The read-model runner on both stores: batches saved with their tracking position, a bad event parked
instead of stopping the fold, a rebuild identical whatever the batch size, and a real process kill in
the middle of a run that resumes and ends identical to an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence import open_store
from adapters.projection_group import ProjectionGroup
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.simulation import simulate
from adapters.simulation.jsonl import write_jsonl
from commands.executor import Executor
from commands.store import EventStore
from projections.audit_trail import AuditTrail
from projections.read_model import Changes, DocChange, Document, topic_of
from tests.builders import given as history_of
from tests.builders import org, token
from tests.cli import salesledger
from tests.property.test_ledger_properties import execute


class FussyCounter:
    """Counts NPS scores per customer; refuses a score of 3, as a fold with a bug would."""

    name = "fussy"
    topics: tuple[str, ...] = ("domain.customer:Customer.NpsRecorded",)
    state_kinds: tuple[str, ...] = ("count",)

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.changes = Changes()

    def apply(self, event: Any, position: int) -> None:
        assert topic_of(event) == self.topics[0]
        if event.score == 3:
            raise ValueError("score: 3 is not a score this fold takes")
        key = str(event.originator_id)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.changes.put("count", key, {"n": self.counts[key]})

    def take_changes(self) -> list[DocChange]:
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        self.counts[key] = int(doc["n"])


def test_a_failing_event_is_parked_and_the_fold_goes_on(store: EventStore, executor: Executor) -> None:
    t = token()
    history_of(executor, *org(t))
    for score in (9, 3, 7):
        nps = {
            "type": "RecordNps",
            "customer_id": f"c-{t}",
            "score": score,
            "occurred_at": "2026-01-05T09:00:00+08:00",
        }
        history_of(executor, nps)
    runner = ProjectionRunner(store, open_doc_view(store), FussyCounter, batch_size=2)
    runner.catch_up()
    assert runner.position == runner.head()
    status = runner.status()
    assert [p["error"] for p in status["parked"]] == ["ValueError: score: 3 is not a score this fold takes"]
    assert status["parked"][0]["attempts"] == 3
    # The scores around the bad one were counted, and a restarted runner agrees.
    again = ProjectionRunner(store, open_doc_view(store), FussyCounter)
    assert list(again.model.counts.values()) == [2]


class Unloadable(FussyCounter):
    """A fold whose saved state must not be read: a rebuild drops it anyway."""

    def load(self, kind: str, key: str, doc: Document) -> None:
        raise AssertionError("a rebuild read the saved state it drops")


def test_a_rebuild_drops_the_saved_state_unread(store: EventStore, executor: Executor) -> None:
    t = token()
    nps = {"type": "RecordNps", "customer_id": f"c-{t}", "occurred_at": "2026-01-05T09:00:00+08:00"}
    history_of(executor, *org(t), {**nps, "score": 9}, {**nps, "score": 7})
    view = open_doc_view(store)
    ProjectionRunner(store, view, FussyCounter).catch_up()
    rebuilt = ProjectionRunner(store, view, Unloadable, batch_size=1)
    assert rebuilt.rebuild() == rebuilt.head()
    assert list(rebuilt.model.counts.values()) == [2]
    # Nor does a group of them (what a rebuild worker process runs).
    member = ProjectionRunner(store, view, Unloadable, batch_size=1)
    ProjectionGroup(store, [member], 1).rebuild()
    assert list(member.model.counts.values()) == [2]


def _history(tmp_path: Path, deals: int) -> Path:
    path = tmp_path / "history.jsonl"
    with path.open("w") as out:
        write_jsonl(simulate(reps=8, deals=deals, months=4, seed=11, start="2026-01"), out)
    return path


def test_a_killed_projection_process_resumes_and_ends_identical(database_url: str, tmp_path: Path) -> None:
    imported = salesledger(database_url, "import", str(_history(tmp_path, 260)), "--format", "json")
    assert json.loads(imported.stdout)["accepted"] > 0, imported.stderr
    store = open_store(database_url)
    view = open_doc_view(store)
    head = store.recorder.max_notification_id() or 0
    env = {**os.environ, "SALESLEDGER_DATABASE_URL": database_url}
    command = [
        sys.executable,
        "-m",
        "adapters",
        "projections",
        "run",
        "audit",
        "--until-head",
        "--batch-size",
        "25",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while view.position("audit") < head // 4 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    killed_at = view.position("audit")
    assert 0 < killed_at < head, f"the kill must land mid-run (position {killed_at} of {head})"

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    verified = salesledger(database_url, "projections", "verify", "audit", "--format", "json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["saved"] == report["replayed"]
    assert report["position"] == head
    store.close()


@given(batch_size=st.integers(1, 200), stop_after=st.integers(0, 8))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_rebuild_gives_the_same_read_model_whatever_the_batch_size(
    store: EventStore, executor: Executor, batch_size: int, stop_after: int
) -> None:
    if (store.recorder.max_notification_id() or 0) < 100:
        commands = list(simulate(reps=3, deals=12, months=2, seed=5, start="2026-01"))
        execute(executor, commands)
    view = open_doc_view(store)
    reference = ProjectionRunner(store, view, AuditTrail).verify()["replayed"]
    first = ProjectionRunner(store, view, AuditTrail, batch_size=batch_size)
    first.view.reset("audit")
    first.reload()
    first.catch_up(max_batches=stop_after)
    second = ProjectionRunner(store, view, AuditTrail, batch_size=max(1, 201 - batch_size))
    second.catch_up()
    checked = second.verify()
    assert checked["saved"] == checked["replayed"] == reference
