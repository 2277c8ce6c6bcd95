from __future__ import annotations

from decimal import Decimal

import pytest

from domain.plan import Plan
from replay.sweep_grid import SweepError, grid, parse_axis, variant
from replay.whatif import parse_periods
from tests.builders import plan as plan_command


@pytest.fixture
def plan() -> Plan:
    return Plan.model_validate(plan_command()["plan"])


def test_axis_is_inclusive_exact_and_reads_percentages() -> None:
    axis = parse_axis("bonuses[0].rate=0.4%..1.2%:0.2%")
    assert axis.field == "bonuses[0].rate"
    assert axis.values == tuple(Decimal(v) for v in ("0.004", "0.006", "0.008", "0.010", "0.012"))
    assert parse_axis("clawback_days=60").values == (Decimal(60),)


def test_grid_is_every_combination_first_axis_slowest() -> None:
    points = grid([parse_axis("clawback_days=60..90:30"), parse_axis("rates.first_order=0.04..0.05:0.01")])
    assert [tuple(str(v) for _, v in point) for point in points] == [
        ("60", "0.04"),
        ("60", "0.05"),
        ("90", "0.04"),
        ("90", "0.05"),
    ]
    assert grid([]) == [()]


def test_variant_sets_the_value_and_keeps_everything_else(plan: Plan) -> None:
    varied = variant(plan, (("accelerators.bands[1].from", Decimal("0.9")), ("clawback_days", Decimal(60))))
    assert varied.accelerators is not None and varied.accelerators.bands[1].from_ == Decimal("0.9")
    assert varied.clawback_days == 60
    assert varied.model_copy(update={"accelerators": plan.accelerators, "clawback_days": 90}) == plan
    assert variant(plan, ()) is plan


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rates.first_order", "sweep 'rates.first_order': expected FIELD=FROM..TO:STEP"),
        (
            "rates.first_order=0.05..0.04:0.01",
            "sweep rates.first_order: FROM (0.05) must not exceed TO (0.04)",
        ),
        ("rates.first_order=0.01..0.02:0", "sweep rates.first_order: STEP must be greater than 0"),
        ("rates.first_order=0.01..0.02:-1", "sweep rates.first_order: STEP must be greater than 0"),
        (
            "rates.first_order=0.01..0.02:0.003",
            "sweep rates.first_order: TO - FROM (0.01) must be a whole number",
        ),
        ("rates.first_order=a..0.02:0.01", "sweep rates.first_order: FROM 'a' is not a number"),
        ("rates.first_order=0.01..x:0.01", "sweep rates.first_order: TO 'x' is not a number"),
        ("rates.first_order=0.01..0.02", "sweep rates.first_order: STEP is missing"),
        ("rates.first_order=0..1000:0.5", "sweep rates.first_order: 2001 values; at most 1000"),
        ("rates..first_order=1", "sweep rates..first_order: not a plan field path"),
        ("version=1..3:1", "sweep version: version names the plan, it is not a numeric term of it"),
    ],
)
def test_bad_axis_names_the_field_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(SweepError) as error:
        parse_axis(text)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bonuses[3].rate=0.01", "sweep bonuses[3].rate: bonuses has 1 entries, no [3]"),
        ("rates.third_order=0.01", "sweep rates.third_order: rates has no third_order"),
        ("scorecard.cap=2", "sweep scorecard.cap: the plan has no scorecard"),
        ("rates=0.01", "sweep rates: not a numeric term of the plan"),
        ("bonuses[0].when=1", "sweep bonuses[0].when: not a numeric term of the plan"),
        ("clawback_days=30.5", "sweep clawback_days: must be a whole number, got 30.5"),
        ("rates[0]=1", "sweep rates[0]: rates is not a list"),
        (
            "rates.first_order=1.5",
            "plan standard@1 would be invalid: rates.first_order: Input should be less",
        ),
        ("accelerators.bands[1].from=0", "bands must be in strictly increasing order of 'from'"),
    ],
)
def test_bad_variant_names_the_field_and_the_rule(plan: Plan, text: str, message: str) -> None:
    point = grid([parse_axis(text)])[0]
    with pytest.raises(SweepError) as error:
        variant(plan, point)
    assert message in str(error.value)


def test_grid_refuses_a_field_swept_twice_or_too_many_points() -> None:
    with pytest.raises(SweepError, match=r"sweep clawback_days: swept more than once"):
        grid([parse_axis("clawback_days=30"), parse_axis("clawback_days=60")])
    big = [parse_axis("rates.first_order=0..0.4:0.01"), parse_axis("rates.repeat_order=0..0.4:0.01")]
    with pytest.raises(SweepError, match=r"the grid has 1681 points; at most 1000"):
        grid(big)


def test_periods_parse_inclusive_ranges_and_name_bad_ends() -> None:
    assert parse_periods("2025-11..2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert parse_periods("2026-03") == ["2026-03"]
    with pytest.raises(SweepError, match=r"periods: FROM '2026-13' is not a period"):
        parse_periods("2026-13..2026-14")
    with pytest.raises(SweepError, match=r"periods: FROM \(2026-05\) must not be after TO \(2026-01\)"):
        parse_periods("2026-05..2026-01")
