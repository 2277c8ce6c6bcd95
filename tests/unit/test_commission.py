"""Commission rules, one hand-computed example each (DESIGN "Commission semantics")."""

# Explanations and the hand computations use the real multiplication sign.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.commission import entitlement
from domain.expressions import check_expression, evaluate_condition
from domain.pay_history import Credit, Line, MoveAttempts, NpsScore, OrderFact, PeriodHistory, Targets
from domain.plan import Plan

PERIOD = "2026-04"
BANDS = [
    {"from": "0", "multiplier": "1"},
    {"from": "1.0", "multiplier": "1.5"},
    {"from": "1.5", "multiplier": "2"},
]
DESIGN_EXAMPLE = "order.first_order && order.gross_margin >= 50000"


def plan(**overrides: Any) -> Plan:
    document: dict[str, Any] = {
        "name": "standard",
        "version": 1,
        "effective_from": PERIOD,
        "rates": {"first_order": "0.04", "repeat_order": "0.02"},
        "clawback_days": 90,
    }
    return Plan.model_validate(document | overrides)


def order(
    order_id: str,
    amount: str,
    *,
    day: int = 1,
    margin: str = "0",
    first: bool = True,
    credit: tuple[tuple[str, str], ...] = (("r1", "1"),),
    cancelled_on: date | None = None,
) -> OrderFact:
    sources = (f"ev-{order_id}",) + ((f"ev-{order_id}-cancel",) if cancelled_on else ())
    return OrderFact(
        order_id=order_id,
        deal_id=f"d-{order_id}",
        customer_id=f"c-{order_id}",
        signed_on=date(2026, 4, day),
        amount=Decimal(amount),
        gross_margin=Decimal(margin),
        credit=tuple(Credit(rep, Decimal(share)) for rep, share in credit),
        first_order=first,
        cancelled_on=cancelled_on,
        sources=sources,
    )


def targets(quota: str = "100000", **overrides: str) -> Targets:
    values = {"margin_target": "20000", "nps_target": "8", "target_incentive": "5000"} | overrides
    return Targets(
        quota=Decimal(quota),
        margin_target=Decimal(values["margin_target"]),
        nps_target=Decimal(values["nps_target"]),
        target_incentive=Decimal(values["target_incentive"]),
        source="ev-targets-r1",
    )


def history(*orders: OrderFact, **extra: Any) -> PeriodHistory:
    return PeriodHistory(period=PERIOD, orders=orders, **extra)


def amounts(lines: list[Line], kind: str) -> list[tuple[str, Decimal]]:
    return [(line.rep_id, line.amount) for line in lines if line.kind == kind]


def test_first_order_earns_the_first_rate_and_a_repeat_order_the_repeat_rate() -> None:
    lines = entitlement(
        plan(), "standard@1", history(order("o1", "10000", first=True), order("o2", "10000", first=False))
    )

    # 10000 × 0.04 = 400; 10000 × 0.02 = 200
    assert [(line.order_id, line.amount) for line in lines] == [
        ("o1", Decimal("400.00")),
        ("o2", Decimal("200.00")),
    ]
    assert all(line.kind == "base" and line.period == PERIOD and line.plan == "standard@1" for line in lines)
    assert lines[0].sources == ("ev-o1",)


def test_split_credit_pays_each_rep_on_their_share() -> None:
    split = order("o1", "120000", first=False, credit=(("r1", "0.6"), ("r2", "0.4")))

    lines = entitlement(plan(rates={"first_order": "0.05", "repeat_order": "0.045"}), "p@1", history(split))

    # 0.6 × 120000 = 72000 × 0.045 = 3240; 0.4 × 120000 = 48000 × 0.045 = 2160
    assert amounts(lines, "base") == [("r1", Decimal("3240.00")), ("r2", Decimal("2160.00"))]
    assert lines[0].explanation == (
        "base: 0.6 × 120000 = 72000 credited on o1 (repeat order) × 0.045 = 3240.00"
    )


def test_explanation_names_the_rate_and_the_base() -> None:
    [line] = entitlement(plan(), "p@1", history(order("o7", "2500")))

    assert "× 0.04" in line.explanation
    assert "2500" in line.explanation
    assert line.explanation.endswith("= 100.00")


def test_cancellation_on_the_last_day_of_the_clawback_window_claws_back() -> None:
    signed = date(2026, 4, 1)
    inside = order("o1", "10000", cancelled_on=signed + timedelta(days=90))
    after = order("o2", "10000", cancelled_on=signed + timedelta(days=91))

    lines = entitlement(plan(clawback_days=90), "p@1", history(inside, after))

    assert [line.order_id for line in lines] == ["o2"]
    assert lines[0].sources == ("ev-o2", "ev-o2-cancel")


def marginal_orders() -> PeriodHistory:
    return history(
        order("o1", "80000", day=1, first=True),
        order("o2", "100000", day=2, first=False),
        targets={"r1": targets("100000")},
    )


def test_marginal_accelerator_splits_one_order_across_two_band_boundaries() -> None:
    accelerators = {"mode": "marginal", "bands": BANDS}

    lines = entitlement(plan(accelerators=accelerators), "p@1", marginal_orders())

    # quota 100000. o1: 80000 × 0.04 = base 3200, covers [0, 80000], all in band ×1: earns 0.
    # o2: 100000 × 0.02 = base 2000, covers [80000, 180000]:
    #   [80000, 100000) band ×1   → 0
    #   [100000, 150000) band ×1.5 → 2000 × 50000 ÷ 100000 × 0.5 = 500
    #   [150000, 180000] band ×2   → 2000 × 30000 ÷ 100000 × 1   = 600
    # accelerator = 1100.00
    assert amounts(lines, "accelerator") == [("r1", Decimal("1100.00"))]
    [line] = [line for line in lines if line.kind == "accelerator"]
    assert line.order_id is None
    assert line.sources == ("ev-o1", "ev-o2", "ev-targets-r1")
    assert "band from 1 (×1.5)" in line.explanation
    assert "band from 1.5 (×2)" in line.explanation


def test_retroactive_accelerator_lifts_all_base_by_the_final_band() -> None:
    accelerators = {"mode": "retroactive", "bands": BANDS}

    lines = entitlement(plan(accelerators=accelerators), "p@1", marginal_orders())

    # attainment 180000 ÷ 100000 = 1.8 → band from 1.5 (×2); base 3200 + 2000 = 5200 × (2 − 1) = 5200
    assert amounts(lines, "accelerator") == [("r1", Decimal("5200.00"))]


def test_multiplier_below_one_gives_a_negative_accelerator() -> None:
    bands = [{"from": "0", "multiplier": "0.8"}, {"from": "1", "multiplier": "1"}]

    lines = entitlement(
        plan(accelerators={"mode": "retroactive", "bands": bands}),
        "p@1",
        history(order("o1", "50000"), targets={"r1": targets("100000")}),
    )

    # attainment 0.5 → ×0.8; base 50000 × 0.04 = 2000 × (0.8 − 1) = −400
    assert amounts(lines, "accelerator") == [("r1", Decimal("-400.00"))]


def test_no_accelerator_without_a_quota() -> None:
    lines = entitlement(
        plan(accelerators={"mode": "retroactive", "bands": BANDS}),
        "p@1",
        history(order("o1", "500000"), targets={"r1": targets("0")}),
    )

    assert amounts(lines, "accelerator") == []


SCORECARD = {"weights": {"sales": "0.4", "margin": "0.3", "nps": "0.2", "process": "0.1"}, "cap": "1.5"}


def test_scorecard_caps_each_factor_and_counts_nps_and_process() -> None:
    facts = history(
        order("o1", "180000", margin="15000"),
        targets={"r1": targets("100000", margin_target="20000", nps_target="8", target_incentive="5000")},
        nps={"r1": (NpsScore(9, "ev-n1"), NpsScore(7, "ev-n2"), NpsScore(11, "ev-n3"))},
        moves={"r1": MoveAttempts(allowed=("ev-m1", "ev-m2", "ev-m3"), blocked=("ev-m4",))},
    )

    lines = entitlement(plan(scorecard=SCORECARD), "p@1", facts)

    # sales   180000 ÷ 100000 = 1.8 → capped 1.5; × 0.4 = 0.6
    # margin  15000 ÷ 20000  = 0.75;               × 0.3 = 0.225
    # nps     mean(9, 7, 11) = 9 ÷ 8 = 1.125;      × 0.2 = 0.225
    # process 3 ÷ 4          = 0.75;               × 0.1 = 0.075
    # 5000 × (0.6 + 0.225 + 0.225 + 0.075) = 5000 × 1.125 = 5625
    [line] = [line for line in lines if line.kind == "scorecard"]
    assert line.amount == Decimal("5625.00")
    assert line.sources == (
        "ev-m1",
        "ev-m2",
        "ev-m3",
        "ev-m4",
        "ev-n1",
        "ev-n2",
        "ev-n3",
        "ev-o1",
        "ev-targets-r1",
    )
    assert line.explanation.startswith("scorecard: 5000 × (0.4 × min(1.5, 1.8) + 0.3 × min(1.5, 0.75)")


def test_scorecard_without_nps_counts_zero_and_without_moves_counts_one() -> None:
    facts = history(
        order("o1", "50000", margin="10000"),
        targets={"r1": targets("100000", margin_target="20000", target_incentive="1000")},
    )

    lines = entitlement(plan(scorecard=SCORECARD), "p@1", facts)

    # sales 0.5 × 0.4 = 0.2; margin 0.5 × 0.3 = 0.15; nps 0 × 0.2 = 0; process 1 × 0.1 = 0.1
    # 1000 × 0.45 = 450
    assert amounts(lines, "scorecard") == [("r1", Decimal("450.00"))]


def test_rep_with_targets_and_no_orders_still_gets_a_scorecard() -> None:
    facts = history(targets={"r1": targets(target_incentive="1000")})

    lines = entitlement(
        plan(scorecard=SCORECARD, accelerators={"mode": "marginal", "bands": BANDS}), "p@1", facts
    )

    # Only process (no moves: 1) earns: 1000 × 0.1 × 1 = 100; no orders, so no accelerator.
    assert amounts(lines, "scorecard") == [("r1", Decimal("100.00"))]
    assert amounts(lines, "accelerator") == []


def test_zero_targets_give_zero_attainment_and_missing_weights_count_zero() -> None:
    facts = history(
        order("o1", "50000", margin="10000"),
        targets={"r1": targets("0", margin_target="0", nps_target="0", target_incentive="1000")},
        nps={"r1": (NpsScore(9, "ev-n1"),)},
    )
    scorecard = {"weights": {"sales": "0.5", "nps": "0.5"}, "cap": "2"}

    lines = entitlement(plan(scorecard=scorecard), "p@1", facts)

    assert amounts(lines, "scorecard") == []


BONUS = {"id": "big-first-order", "when": DESIGN_EXAMPLE, "rate": "0.008"}


def test_bonus_pays_only_when_its_condition_holds() -> None:
    facts = history(
        order("o1", "100000", margin="60000", first=True),
        order("o2", "100000", margin="60000", first=False),
        order("o3", "100000", margin="40000", first=True),
    )

    lines = entitlement(plan(bonuses=[BONUS]), "p@1", facts)

    # only o1 is a first order with margin ≥ 50000: 100000 × 0.008 = 800
    bonuses = [line for line in lines if line.kind == "bonus"]
    assert [(line.order_id, line.bonus_id, line.amount) for line in bonuses] == [
        ("o1", "big-first-order", Decimal("800.00"))
    ]
    assert [line.kind for line in lines if line.order_id == "o1"] == ["base", "bonus"]


def test_bonus_condition_sees_the_credited_share_and_the_rep() -> None:
    bonus = {"id": "senior", "when": "rep.role == 'ka' && order.credited_amount >= 50000.0", "rate": "0.01"}
    split = order("o1", "100000", credit=(("r1", "0.5"), ("r2", "0.5")))
    reps = {"r1": {"rep_id": "r1", "role": "ka"}, "r2": {"rep_id": "r2", "role": "smb"}}

    lines = entitlement(plan(bonuses=[bonus]), "p@1", history(split, reps=reps))

    assert amounts(lines, "bonus") == [("r1", Decimal("500.00"))]


def test_bonus_that_cannot_be_evaluated_names_the_bonus() -> None:
    bonus = {"id": "won-deals", "when": "deal.stage == 'won'", "rate": "0.01"}

    with pytest.raises(ValueError, match=r"bonus 'won-deals'.*o1.*no such member"):
        entitlement(plan(bonuses=[bonus]), "p@1", history(order("o1", "1000")))


def test_each_line_is_rounded_half_up() -> None:
    # 1000.25 × 0.02 = 20.005 → 20.01 (half even would give 20.00)
    lines = entitlement(plan(), "p@1", history(order("o1", "1000.25", first=False)))

    assert amounts(lines, "base") == [("r1", Decimal("20.01"))]


def test_a_line_rounding_to_zero_is_left_out() -> None:
    # 0.1 × 0.04 = 0.004 → 0.00
    assert entitlement(plan(), "p@1", history(order("o1", "0.1"))) == []
    assert (
        entitlement(plan(rates={"first_order": "0", "repeat_order": "0"}), "p@1", history(order("o1", "5")))
        == []
    )


def test_check_expression_accepts_the_design_example() -> None:
    check_expression(DESIGN_EXAMPLE)
    check_expression("'key-account' in customer.tags && deal.expected_amount > 1000.0 && rep.team == 'a'")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("order.no_such_field > 1", "unknown field order.no_such_field"),
        ("!order.first_order && order.typo > 1", "unknown field order.typo"),
        ("order.amount", "must yield true or false, not double"),
        ("order.first_order && (order.amount >", "does not parse at line 1"),
        ("nope == 1", "undeclared reference to 'nope'"),
    ],
)
def test_check_expression_refuses(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_expression(text)


def test_plan_refuses_a_bonus_on_an_unknown_field() -> None:
    with pytest.raises(ValidationError, match=r"unknown field order\.no_such_field"):
        plan(bonuses=[{"id": "b", "when": "order.no_such_field > 1", "rate": "0.01"}])


def test_evaluate_condition_refuses_a_non_bool() -> None:
    with pytest.raises(ValueError, match="must yield true or false"):
        evaluate_condition("order.amount", {"order": {"amount": Decimal(1)}})
