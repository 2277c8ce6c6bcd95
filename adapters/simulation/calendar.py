"""Business time of a simulation: whole minutes since the first month starts, in +08:00."""

from __future__ import annotations

import random
from datetime import date, timedelta

DAY = 1440
HOUR = 60
OFFSET = "+08:00"
# Stamps are sometimes formatted before the horizon check drops the event.
_SPARE_DAYS = 400


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class Calendar:
    def __init__(self, start: str, months: int) -> None:
        if months < 1:
            raise ValueError("months must be at least 1")
        year, month = (int(part) for part in start.split("-"))
        day = date(year, month, 1)
        self.periods: list[str] = []
        self.month_start: list[int] = []
        self._days: list[str] = []
        self._day_month: list[int] = []
        for index in range(months):
            self.periods.append(f"{day.year:04d}-{day.month:02d}")
            self.month_start.append(len(self._days) * DAY)
            end = _next_month(day)
            while day < end:
                self._days.append(day.isoformat())
                self._day_month.append(index)
                day += timedelta(days=1)
        self.horizon = len(self._days) * DAY
        for _ in range(_SPARE_DAYS):
            self._days.append(day.isoformat())
            day += timedelta(days=1)

    @property
    def months(self) -> int:
        return len(self.periods)

    def month_of(self, t: int) -> int:
        """Index of the month holding t, or -1 outside the simulated span."""
        if 0 <= t < self.horizon:
            return self._day_month[t // DAY]
        return -1

    def month_end(self, month: int) -> int:
        nxt = month + 1
        return self.month_start[nxt] if nxt < self.months else self.horizon

    def stamp(self, t: int) -> str:
        day, rest = divmod(t, DAY)
        return f"{self._days[day]}T{rest // HOUR:02d}:{rest % HOUR:02d}:00{OFFSET}"

    def date(self, t: int) -> str:
        return self._days[t // DAY]

    def days_in(self, month: int) -> int:
        return (self.month_end(month) - self.month_start[month]) // DAY


def office_hours(t: int, rng: random.Random) -> int:
    """Move a time that falls at night to the next working morning."""
    minute = t % DAY
    if minute < 8 * HOUR:
        return t - minute + 8 * HOUR + rng.randrange(150)
    if minute >= 21 * HOUR:
        return t - minute + DAY + 8 * HOUR + rng.randrange(150)
    return t


def close_times(calendar: Calendar, rng: random.Random) -> list[int]:
    """When each month but the last is closed: a few days into the next month."""
    return [
        calendar.month_start[month + 1] + rng.randint(1, 3) * DAY + 17 * HOUR + rng.randrange(120)
        for month in range(calendar.months - 1)
    ]


def close_command(calendar: Calendar, month: int, t: int) -> dict[str, object]:
    return {"type": "ClosePeriod", "period": calendar.periods[month], "occurred_at": calendar.stamp(t)}
