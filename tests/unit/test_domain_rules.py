"""Pure domain rules: no store, time given as input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from domain.contract import ClauseRules
from domain.deal import Deal
from domain.errors import DomainError
from domain.gates import DEFAULT_GATE_POLICY, DealFacts
from domain.ledger_periods import LedgerPeriods
from domain.periods import next_period, period_of
from domain.plan import Plan
from domain.plan_book import governing_plan
from domain.requirement import RequirementRequest
from domain.stages import Stage

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def deal(role: str = "smb") -> Deal:
    return Deal("d-1", "c-1", "r-1", role, Decimal(1000), None, T0 + timedelta(hours=72), T0)


def test_smb_quotation_gate_needs_paperwork_only() -> None:
    facts = DealFacts(frozenset({"meeting_minutes"}), 1, {})
    assert DEFAULT_GATE_POLICY.missing(facts, Stage.LEAD, Stage.QUOTATION, "smb") == []
    assert [
        g["item"] for g in DEFAULT_GATE_POLICY.missing(facts, Stage.LEAD, Stage.QUOTATION, "key_account")
    ] == [
        "activity:deep_visit",
        "activity:competitor_analysis",
        "activity:exec_intro",
    ]


def test_moves_below_quotation_pass_no_gate() -> None:
    assert DEFAULT_GATE_POLICY.missing(DealFacts(), Stage.LEAD, Stage.SOLUTION_DEMO, "key_account") == []


def test_first_touch_overdue_only_after_the_deadline_and_only_once() -> None:
    d = deal()
    assert not d.mark_first_touch_overdue(T0 + timedelta(hours=71))
    assert d.mark_first_touch_overdue(T0 + timedelta(hours=72))
    assert not d.mark_first_touch_overdue(T0 + timedelta(hours=100))


def test_owner_activity_meets_the_first_touch() -> None:
    d = deal()
    d.log_activity("r-1", "call", None, None, None, T0 + timedelta(hours=1))
    assert not d.mark_first_touch_overdue(T0 + timedelta(days=10))


def test_move_earlier_than_the_last_stage_change_is_refused() -> None:
    d = deal()
    d.move("r-1", Stage.QUALIFIED, DEFAULT_GATE_POLICY, T0 + timedelta(days=1))
    with pytest.raises(DomainError, match=r"^occurred_at: precedes deal d-1's entry into qualified"):
        d.move("r-1", Stage.LEAD, DEFAULT_GATE_POLICY, T0)


def test_periods_close_in_calendar_order_once_after_they_end() -> None:
    periods = LedgerPeriods()
    periods.close("2026-01", "standard@1", datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(DomainError, match="already closed"):
        periods.close("2026-01", "standard@1", datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(DomainError, match="the next to close is 2026-02"):
        periods.close("2026-03", "standard@1", datetime(2026, 4, 1, tzinfo=UTC))
    assert periods.first_open == "2026-02"


def test_governing_plan_is_latest_effective_then_highest_version() -> None:
    docs = {
        "a@1": {"name": "a", "version": 1, "effective_from": "2026-01"},
        "a@2": {"name": "a", "version": 2, "effective_from": "2026-03"},
        "a@3": {"name": "a", "version": 3, "effective_from": "2026-03"},
    }
    assert governing_plan(docs, "2025-12") is None
    assert governing_plan(docs, "2026-02") == "a@1"
    assert governing_plan(docs, "2026-04") == "a@3"


def test_plan_bands_must_start_at_zero_and_increase() -> None:
    with pytest.raises(ValidationError, match="the first band must start at 0"):
        Plan.model_validate(
            {
                "name": "p",
                "version": 1,
                "effective_from": "2026-01",
                "rates": {"first_order": "0.04", "repeat_order": "0.02"},
                "accelerators": {"mode": "marginal", "bands": [{"from": "0.5", "multiplier": "1"}]},
            }
        )


def test_contract_clause_rules_flag_long_terms_and_high_penalties() -> None:
    rules = ClauseRules()
    assert rules.risks(90, Decimal("0.2")) == []
    assert [rule for rule, _ in rules.risks(120, Decimal("0.25"))] == ["payment_term", "penalty_ratio"]


def test_requirement_decisions_record_response_time_and_lateness() -> None:
    deadlines = RequirementRequest.deadlines_for(["legal", "delivery"], {"legal": 4, "delivery": 1}, T0)
    request = RequirementRequest("q-1", "d-1", "c-1", ["legal", "delivery"], deadlines, T0)
    request.decide("legal", "approve", "ann", None, T0 + timedelta(hours=3))
    with pytest.raises(DomainError, match=r"^department: request q-1 did not ask presales"):
        request.decide("presales", "approve", "bob", None, T0)
    with pytest.raises(DomainError, match="already decided"):
        request.decide("legal", "reject", "ann", "no", T0 + timedelta(hours=5))
    assert request.breaches_due(T0 + timedelta(hours=2)) == ["delivery"]
    decided = request.pending_events[-1]
    assert decided.response_seconds == 3 * 3600 and decided.late is False  # type: ignore[attr-defined]


def test_period_of_uses_the_timestamps_own_wall_clock() -> None:
    assert period_of(datetime(2026, 3, 1, 2, tzinfo=ZoneInfo("Asia/Shanghai"))) == "2026-03"
    assert next_period("2026-12") == "2027-01"
