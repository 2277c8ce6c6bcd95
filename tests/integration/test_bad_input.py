"""Every refused command names the field and the rule, and writes nothing — on both stores."""

from __future__ import annotations

from typing import Any

import pytest

from commands.executor import Executor
from commands.store import EventStore
from tests.builders import activity, at, book, given, move, open_deal, org, plan, run, token
from tests.conftest import event_count


def with_deal_won(t: str) -> list[dict[str, Any]]:
    return [
        plan(),
        *org(t),
        open_deal(t),
        book(t),
    ]


CASES: list[tuple[str, Any, str]] = [
    (
        "wrong type",
        lambda t: {"type": "RecordNps", "customer_id": f"c-{t}", "score": "ten", "occurred_at": at(2)},
        "score: Input should be a valid integer",
    ),
    (
        "nps out of range",
        lambda t: {"type": "RecordNps", "customer_id": f"c-{t}", "score": 11, "occurred_at": at(2)},
        "score: Input should be less than or equal to 10",
    ),
    ("unknown deal", lambda t: activity(t, "call", deal="nope"), "deal_id: unknown deal 'nope-"),
    ("unknown rep", lambda t: activity(t, "call", rep="ghost"), "rep_id: unknown rep 'ghost-"),
    (
        "unknown customer",
        lambda t: open_deal(t) | {"customer_id": "zzz"},
        "customer_id: unknown customer 'zzz'",
    ),
    (
        "shares not summing to 1",
        lambda t: (
            open_deal(t, deal="d9")
            | {"splits": [{"rep_id": f"smb-{t}", "share": "0.6"}, {"rep_id": f"ka-{t}", "share": "0.3"}]}
        ),
        "splits: shares must sum to exactly 1, got 0.9",
    ),
    (
        "negative amount",
        lambda t: open_deal(t, deal="d9") | {"expected_amount": "-5"},
        "expected_amount: Input should be greater than or equal to 0",
    ),
    (
        "stage that does not exist",
        lambda t: move(t, "signed"),
        "to_stage: Input should be 'lead', 'qualified'",
    ),
    ("move from won", lambda t: move(t, "qualified", day=5), "deal_id: deal d-"),
    (
        "date without a zone",
        lambda t: activity(t, "call") | {"occurred_at": "2026-01-03T09:00:00"},
        "occurred_at: Input should have timezone info",
    ),
    (
        "visit without evidence",
        lambda t: activity(t, "deep_visit") | {"evidence": None},
        "evidence: a deep_visit needs photo evidence",
    ),
    (
        "plan effective_from not a period",
        lambda t: plan(effective_from="2026-13"),
        "plan.effective_from: Value error, effective_from must be a period YYYY-MM",
    ),
    (
        "expression that does not parse",
        lambda t: plan(when="order.first_order && (order.amount >"),
        "plan.bonuses.0.when: Value error, CEL expression does not parse at line 1",
    ),
    ("unknown command", lambda t: {"type": "FireEveryone"}, "type: Input tag 'FireEveryone' found"),
    (
        "unknown field",
        lambda t: activity(t, "call") | {"mood": "happy"},
        "mood: Extra inputs are not permitted",
    ),
    (
        "missing field",
        lambda t: {k: v for k, v in activity(t, "call").items() if k != "kind"},
        "kind: Field required",
    ),
    (
        "margin above amount",
        lambda t: {
            "type": "BookOrder",
            "order_id": f"o2-{t}",
            "deal_id": f"d-{t}",
            "amount": "100",
            "gross_margin": "200",
            "signed_on": "2026-01-03",
            "occurred_at": at(3),
        },
        "gross_margin: must not exceed the amount (100)",
    ),
    (
        "order id reused",
        book,
        "order_id: order 'o-",
    ),
    (
        "close before month end",
        lambda t: {"type": "ClosePeriod", "period": "2026-01", "occurred_at": at(20)},
        "period 2026-01 has not ended yet",
    ),
    (
        "rerun of an open period",
        lambda t: {
            "type": "ApplyRerun",
            "period": "2026-01",
            "plan": "standard@1",
            "approved_by": "cfo",
            "occurred_at": at(20),
        },
        "period: period 2026-01 is not closed",
    ),
    (
        "rerun with an unpublished plan",
        lambda t: {
            "type": "ApplyRerun",
            "period": "2026-01",
            "plan": "gold@7",
            "approved_by": "cfo",
            "occurred_at": at(20),
        },
        "plan: no plan gold@7 has been published",
    ),
]


@pytest.mark.parametrize(("case", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_refused_with_field_and_rule_and_nothing_written(
    executor: Executor, store: EventStore, case: str, build: Any, expected: str
) -> None:
    t = token()
    given(executor, *with_deal_won(t))
    before = event_count(store)
    [outcome] = run(executor, build(t) | {"command_id": f"bad-{t}"})
    assert outcome.status == "refused", case
    assert expected in (outcome.error or ""), outcome.error
    assert event_count(store) == before
