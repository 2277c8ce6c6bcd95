"""Calendar windows a metric is measured over: ISO weeks (`2026-W03`) and months (`2026-03`).

A moment belongs to the window of its own wall-clock date, as pay periods do.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

WindowKind = Literal["week", "month"]
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def window_of(day: date, kind: WindowKind) -> str:
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def kind_of(label: str) -> WindowKind:
    """The kind of a window label; a ValueError names what a label looks like."""
    week = WEEK.match(label)
    if week is not None:
        # fromisocalendar refuses week 53 of a year that has 52, and week 0.
        date.fromisocalendar(int(week[1]), int(week[2]), 1)
        return "week"
    if MONTH.match(label) is not None:
        return "month"
    raise ValueError(f"{label!r} is not a window: an ISO week like 2026-W03 or a month like 2026-03")


def window_start(label: str) -> date:
    if kind_of(label) == "week":
        year, week = label.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    year, month = label.split("-")
    return date(int(year), int(month), 1)


def window_end(label: str) -> date:
    """The first day after the window."""
    start = window_start(label)
    if kind_of(label) == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def next_window(label: str) -> str:
    return window_of(window_end(label), kind_of(label))
