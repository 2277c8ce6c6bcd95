"""Properties of the commission maths that no hand-picked example can pin down."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.commission import credit_entries, entitlement
from domain.pay_history import Credit, MoveAttempts, NpsScore, OrderFact, PeriodHistory, Targets
from domain.plan import Plan

PROPERTY = settings(max_examples=100, deadline=None)
PERIOD = "2026-04"
REPS = ["r0", "r1", "r2", "r3", "r4"]

amounts = st.decimals(min_value=Decimal(0), max_value=Decimal(10**7), places=2, allow_nan=False)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4, allow_nan=False)


@st.composite
def splits(draw: st.DrawFn) -> tuple[Credit, ...]:
    """Shares that sum to exactly 1: integer parts over their total, the last share taking the remainder."""
    parts = draw(st.lists(st.integers(1, 100), min_size=1, max_size=len(REPS)))
    reps = draw(st.permutations(REPS))[: len(parts)]
    total = sum(parts)
    shares = [
        (Decimal(part) / total).quantize(Decimal("0.000001"), rounding=ROUND_DOWN) for part in parts[:-1]
    ]
    shares.append(Decimal(1) - sum(shares, Decimal(0)))
    return tuple(Credit(rep, share) for rep, share in zip(reps, shares, strict=True))


def rates_only_plan(rate: Decimal, **extra: Any) -> Plan:
    return Plan.model_validate(
        {
            "name": "p",
            "version": 1,
            "effective_from": PERIOD,
            "rates": {"first_order": rate, "repeat_order": rate},
        }
        | extra
    )


def order_fact(
    order_id: str,
    amount: Decimal,
    credit: tuple[Credit, ...],
    *,
    day: int = 1,
    first: bool = True,
    margin: Decimal = Decimal(0),
    cancelled_on: date | None = None,
) -> OrderFact:
    return OrderFact(
        order_id=order_id,
        deal_id=f"d-{order_id}",
        customer_id=f"c-{order_id}",
        signed_on=date(2026, 4, day),
        amount=amount,
        gross_margin=margin,
        credit=credit,
        first_order=first,
        cancelled_on=cancelled_on,
        sources=(f"ev-{order_id}",),
    )


@PROPERTY
@given(amount=amounts, credit=splits(), rate=rates)
def test_a_split_always_credits_the_whole_order(
    amount: Decimal, credit: tuple[Credit, ...], rate: Decimal
) -> None:
    plan = rates_only_plan(rate)
    order = order_fact("o1", amount, credit)

    credited = sum((entry.amount for entry in credit_entries(plan, order)), Decimal(0))
    lines = entitlement(plan, "p@1", PeriodHistory(period=PERIOD, orders=(order,)))
    paid = sum((line.amount for line in lines), Decimal(0))

    assert credited == amount
    # Each line is rounded once, so each can be off by at most half a cent.
    assert abs(paid - amount * rate) <= Decimal("0.005") * len(credit)


@PROPERTY
@given(
    clawback_days=st.integers(0, 365),
    days_to_cancel=st.integers(0, 400),
    amount=st.decimals(min_value=Decimal(1000), max_value=Decimal(10**6), places=2, allow_nan=False),
)
def test_cancellation_removes_the_order_iff_inside_the_window(
    clawback_days: int, days_to_cancel: int, amount: Decimal
) -> None:
    bonus = {"id": "all", "when": "order.amount > 0.0", "rate": "0.01"}
    plan = rates_only_plan(Decimal("0.04"), clawback_days=clawback_days, bonuses=[bonus])
    cancelled = order_fact(
        "o1",
        amount,
        (Credit("r0", Decimal(1)),),
        cancelled_on=date(2026, 4, 1) + timedelta(days=days_to_cancel),
    )
    kept = order_fact("o2", amount, (Credit("r0", Decimal(1)),))

    lines = entitlement(plan, "p@1", PeriodHistory(period=PERIOD, orders=(cancelled, kept)))

    assert (not any(line.order_id == "o1" for line in lines)) == (days_to_cancel <= clawback_days)
    assert any(line.order_id == "o2" for line in lines)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    starts = sorted(
        draw(st.sets(st.decimals(Decimal("0.1"), Decimal(3), places=2, allow_nan=False), max_size=3))
    )
    multipliers = st.decimals(Decimal(0), Decimal(3), places=2, allow_nan=False)
    bands = [{"from": start, "multiplier": draw(multipliers)} for start in [Decimal(0), *starts]]
    document: dict[str, Any] = {
        "name": "p",
        "version": 1,
        "effective_from": PERIOD,
        "rates": {"first_order": draw(rates), "repeat_order": draw(rates)},
        "clawback_days": draw(st.integers(0, 60)),
        "accelerators": {"mode": draw(st.sampled_from(["marginal", "retroactive"])), "bands": bands},
        "bonuses": [
            {"id": "big", "when": "order.first_order && order.gross_margin >= 50000", "rate": "0.008"}
        ],
        "scorecard": {
            "weights": {"sales": "0.4", "margin": "0.3", "nps": "0.2", "process": "0.1"},
            "cap": draw(st.decimals(Decimal("0.5"), Decimal(2), places=1, allow_nan=False)),
        },
    }
    return Plan.model_validate(document)


@st.composite
def histories(draw: st.DrawFn) -> PeriodHistory:
    orders = []
    for index in range(draw(st.integers(0, 8))):
        day = draw(st.integers(1, 30))
        cancel_after = draw(st.none() | st.integers(0, 120))
        orders.append(
            order_fact(
                # Ids are not in signing order, so sorting by (signed_on, order_id) is exercised.
                f"o{draw(st.integers(0, 99)):02d}-{index}",
                draw(amounts),
                draw(splits()),
                day=day,
                first=draw(st.booleans()),
                margin=draw(amounts),
                cancelled_on=None
                if cancel_after is None
                else date(2026, 4, day) + timedelta(days=cancel_after),
            )
        )
    with_targets = draw(st.lists(st.sampled_from(REPS), unique=True))
    targets = {
        rep: Targets(
            quota=draw(amounts),
            margin_target=draw(amounts),
            nps_target=Decimal(draw(st.integers(0, 10))),
            target_incentive=draw(amounts),
            source=f"ev-targets-{rep}",
        )
        for rep in with_targets
    }
    nps = {
        rep: tuple(NpsScore(score, f"ev-nps-{rep}-{i}") for i, score in enumerate(scores))
        for rep in with_targets
        if (scores := draw(st.lists(st.integers(0, 10), max_size=3)))
    }
    moves = {
        rep: MoveAttempts(
            allowed=tuple(f"ev-ok-{rep}-{i}" for i in range(draw(st.integers(0, 3)))),
            blocked=tuple(f"ev-no-{rep}-{i}" for i in range(draw(st.integers(0, 3)))),
        )
        for rep in with_targets
    }
    return PeriodHistory(period=PERIOD, orders=tuple(orders), targets=targets, nps=nps, moves=moves)


@PROPERTY
@given(plan=plans(), history=histories(), data=st.data())
def test_entitlement_is_deterministic_and_ignores_the_order_of_orders(
    plan: Plan, history: PeriodHistory, data: st.DataObject
) -> None:
    shuffled = PeriodHistory(
        period=history.period,
        orders=tuple(data.draw(st.permutations(history.orders))),
        targets=history.targets,
        nps=history.nps,
        moves=history.moves,
    )

    first = entitlement(plan, "p@1", history)

    # repr, not ==: Decimal("1.0") == Decimal("1.00"), but replays must be byte-identical.
    assert repr(entitlement(plan, "p@1", history)) == repr(first)
    assert repr(entitlement(plan, "p@1", shuffled)) == repr(first)
