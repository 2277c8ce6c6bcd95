"""Given/when/then for the funnel, on SQLite and on PostgreSQL."""

from __future__ import annotations

from commands.executor import Executor
from commands.store import EventStore
from domain.deal import Deal
from domain.order import Order
from domain.stages import Stage
from tests.builders import activity, book, given, move, open_deal, org, quotation_paperwork, run, token
from tests.conftest import event_count


def deal_of(store: EventStore, t: str, deal: str = "d") -> Deal:
    found = store.repository.get(Deal.create_id(f"{deal}-{t}"))
    assert isinstance(found, Deal)
    return found


def test_forward_move_skipping_stages_checks_every_stage_passed(
    executor: Executor, store: EventStore
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t), activity(t, "call"))
    [outcome] = run(executor, move(t, "negotiation"))
    assert outcome.status == "blocked"
    assert "quotation" in (outcome.error or "") and "demo_report" in (outcome.error or "")
    given(executor, *quotation_paperwork(t), move(t, "negotiation", day=5))
    assert deal_of(store, t).stage is Stage.NEGOTIATION


def test_blocked_move_is_recorded_with_what_was_missing(executor: Executor, store: EventStore) -> None:
    t = token()
    given(
        executor, *org(t), open_deal(t, owner="ka"), *quotation_paperwork(t), activity(t, "deep_visit", "ka")
    )
    before = event_count(store)
    [outcome] = run(executor, move(t, "quotation", rep="ka"))
    assert outcome.status == "blocked"
    events = store.events.get(Deal.create_id(f"d-{t}"))
    last = list(events)[-1]
    assert type(last).__name__ == "StageMoveBlocked"
    missing = {gap["item"]: gap["have"] for gap in last.missing}  # type: ignore[attr-defined]
    assert missing == {"activity:deep_visit": 1, "activity:competitor_analysis": 0, "activity:exec_intro": 0}
    assert event_count(store) == before + 1
    assert deal_of(store, t).stage is Stage.LEAD


def test_key_account_template_passes_once_the_work_is_logged(executor: Executor, store: EventStore) -> None:
    t = token()
    work = [activity(t, "deep_visit", "ka")] * 3 + [activity(t, "competitor_analysis", "ka")] * 2
    given(executor, *org(t), open_deal(t, owner="ka"), *quotation_paperwork(t), *work)
    given(executor, activity(t, "exec_intro", "ka"), move(t, "quotation", rep="ka"))
    assert deal_of(store, t).stage is Stage.QUOTATION


def test_backward_move_is_always_allowed_and_same_stage_is_an_error(
    executor: Executor, store: EventStore
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t), move(t, "solution_demo"), move(t, "qualified", hour=10))
    assert deal_of(store, t).stage is Stage.QUALIFIED
    before = event_count(store)
    [outcome] = run(executor, move(t, "qualified", hour=11))
    assert outcome.status == "refused" and outcome.error == f"to_stage: deal d-{t} is already in qualified"
    assert event_count(store) == before


def test_won_and_lost_take_no_more_moves(executor: Executor, store: EventStore) -> None:
    t = token()
    given(
        executor,
        *org(t),
        open_deal(t),
        book(t, "5000", "1000", day=5),
        open_deal(t, deal="d2"),
        {
            "type": "LoseDeal",
            "deal_id": f"d2-{t}",
            "reason": "price",
            "occurred_at": "2026-01-06T10:00:00+08:00",
        },
    )
    assert deal_of(store, t).stage is Stage.WON
    won, lost = run(executor, move(t, "qualified", day=7), move(t, "qualified", deal="d2", day=7))
    assert won.error == f"deal_id: deal d-{t} is won: it takes no more changes"
    assert lost.error == f"deal_id: deal d2-{t} is lost: it takes no more changes"
    [direct] = run(executor, move(t, "won", deal="d2", day=8))
    assert direct.error == "to_stage: a deal is won only by booking an order (BookOrder)"


def test_visit_without_photo_evidence_is_refused(executor: Executor, store: EventStore) -> None:
    t = token()
    given(executor, *org(t), open_deal(t))
    bare = activity(t, "visit") | {"evidence": None}
    before = event_count(store)
    [outcome] = run(executor, bare)
    assert outcome.error is not None and outcome.error.startswith("evidence: a visit needs photo evidence")
    assert event_count(store) == before


def test_order_credits_the_split_in_force_at_booking(executor: Executor, store: EventStore) -> None:
    t = token()
    split = {
        "type": "SetCreditSplit",
        "deal_id": f"d-{t}",
        "occurred_at": at_day(3),
        "splits": [{"rep_id": f"smb-{t}", "share": "0.6"}, {"rep_id": f"ka-{t}", "share": "0.4"}],
    }
    given(executor, *org(t), open_deal(t), split, book(t, "5000", "1000", day=5))
    booked = next(iter(store.events.get(Order.create_id(f"o-{t}"))))
    assert [(c["rep_id"], str(c["share"])) for c in booked.credit] == [  # type: ignore[attr-defined]
        (f"smb-{t}", "0.6"),
        (f"ka-{t}", "0.4"),
    ]


def at_day(day: int) -> str:
    return f"2026-01-{day:02d}T10:00:00+08:00"
