"""Calendar windows, the threshold rule's runs, and the ServiceAlerts decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.alert_rules import COMPLAINT_RATE_BY_REGION, firings
from domain.calendar_windows import kind_of, next_window, window_end, window_of
from domain.errors import DomainError
from domain.service_alerts import ServiceAlerts

HIGH = Decimal("0.02")
LOW = Decimal("0.01")
MONDAY_W04 = datetime(2026, 1, 19, 1, tzinfo=UTC)


def test_iso_weeks_cross_years_and_months_wrap() -> None:
    assert window_of(date(2026, 1, 1), "week") == "2026-W01"
    assert window_of(date(2027, 1, 1), "week") == "2026-W53"
    assert next_window("2026-W53") == "2027-W01"
    assert next_window("2026-12") == "2027-01"
    assert window_end("2026-W03") == date(2026, 1, 19)
    with pytest.raises(ValueError, match="not a window"):
        kind_of("2026-13")
    # 2025 has 52 ISO weeks.
    with pytest.raises(ValueError):
        kind_of("2025-W53")


def test_a_run_fires_once_per_last_window_and_a_gap_breaks_it() -> None:
    series = {
        "east": [("2026-W01", HIGH), ("2026-W02", HIGH), ("2026-W03", HIGH), ("2026-W04", LOW)],
        # W02 missing: W01 and W03 are not two weeks running.
        "west": [("2026-W01", HIGH), ("2026-W03", HIGH)],
        "north": [("2026-W01", HIGH), ("2026-W02", None), ("2026-W03", HIGH)],
        "south": [("2026-W01", Decimal("0.018")), ("2026-W02", HIGH)],
    }
    found = firings(COMPLAINT_RATE_BY_REGION, series)
    assert [(f.group, f.windows) for f in found] == [
        ("east", ("2026-W01", "2026-W02")),
        ("east", ("2026-W02", "2026-W03")),
    ]


def test_service_alerts_refuse_a_duplicate_and_unsupported_triggers() -> None:
    alerts = ServiceAlerts("region", "east")
    weeks = ["2026-W02", "2026-W03"]
    alerts.trigger_improvement("r", weeks, [HIGH, HIGH], Decimal("0.018"), MONDAY_W04)
    with pytest.raises(DomainError, match=r"^windows: rule r already triggered .* east in 2026-W03"):
        alerts.trigger_improvement("r", weeks, [HIGH, HIGH], Decimal("0.018"), MONDAY_W04)
    # Another rule may fire for the same weeks.
    alerts.trigger_improvement("other", weeks, [HIGH, HIGH], Decimal("0.018"), MONDAY_W04)
    with pytest.raises(DomainError, match=r"^values: 0.01 in 2026-W04 does not exceed"):
        alerts.trigger_improvement("r", ["2026-W03", "2026-W04"], [HIGH, LOW], Decimal("0.018"), MONDAY_W04)
    with pytest.raises(DomainError, match=r"^windows: must be consecutive"):
        alerts.trigger_improvement("r", ["2026-W01", "2026-W03"], [HIGH, HIGH], Decimal("0.018"), MONDAY_W04)
    with pytest.raises(DomainError, match=r"^occurred_at: window 2026-W04 has not ended"):
        alerts.trigger_improvement("r", ["2026-W03", "2026-W04"], [HIGH, HIGH], Decimal("0.018"), MONDAY_W04)
    triggered = [e for e in alerts.collect_events() if type(e).__name__ == "ServiceImprovementTriggered"]
    assert [(e.rule, e.group, e.windows) for e in triggered] == [  # type: ignore[attr-defined]
        ("r", "east", weeks),
        ("other", "east", weeks),
    ]
