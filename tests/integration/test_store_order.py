"""The store's order is the order commands ran in, also when a bulk import saves a batch at once:
a period close recorded after an order must come after it in the notification log."""

from __future__ import annotations

from commands.executor import Executor
from commands.parsing import parse_command
from commands.store import EventStore
from tests.builders import at, org, token


def test_a_batch_is_stored_in_command_order_across_aggregates(store: EventStore, executor: Executor) -> None:
    t = token()
    commands = [*org(t)]
    # Alternate between aggregates so that grouping a batch by aggregate would reorder it.
    for month in ("01", "02", "03"):
        for rep in ("ka", "smb"):
            commands.append(
                {
                    "type": "SetTargets",
                    "rep_id": f"{rep}-{t}",
                    "period": f"2026-{month}",
                    "quota": "1000",
                    "margin_target": "100",
                    "nps_target": "8",
                    "target_incentive": "10",
                    "occurred_at": at(3),
                }
            )
        commands.append({"type": "RecordNps", "customer_id": f"c-{t}", "score": 9, "occurred_at": at(4)})
    start = store.recorder.max_notification_id() or 0
    outcomes = list(executor.execute_many([parse_command(c) for c in commands], batch_size=100))
    assert [o.status for o in outcomes] == ["applied"] * len(commands)

    stored = store.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False)
    topics = [n.topic.split(":")[1] for n in stored if "CommandReceipt" not in n.topic]
    expected = ["Rep.Onboarded", "Rep.Onboarded", "Customer.Registered"]
    expected += ["Rep.TargetsSet", "Rep.TargetsSet", "Customer.NpsRecorded"] * 3
    assert topics == expected
