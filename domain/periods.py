from __future__ import annotations

import re
from datetime import date, datetime

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def is_period(text: str) -> bool:
    return PERIOD_PATTERN.match(text) is not None


def period_of(moment: date | datetime) -> str:
    # A timestamp belongs to the month of its own wall-clock date: a rep in +08:00
    # logging at 02:00 on the 1st has done March's work, not February's.
    return f"{moment.year:04d}-{moment.month:02d}"


def next_period(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def period_end(period: str) -> date:
    year, month = (int(part) for part in next_period(period).split("-"))
    return date(year, month, 1)
