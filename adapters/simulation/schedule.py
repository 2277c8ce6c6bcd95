"""Month buckets that put generated commands into the order a real system receives them."""

from __future__ import annotations

from operator import itemgetter

from adapters.simulation.calendar import Calendar

Command = dict[str, object]

_ORDER = itemgetter(0, 1)


class Schedule:
    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar
        self._buckets: list[list[tuple[int, int, Command]]] = [[] for _ in calendar.periods]
        self._seq = 0
        self._drained = 0

    def add(self, t: int, command: Command) -> bool:
        """Queue a command at business time t; False when t lies outside the span."""
        month = self._calendar.month_of(t)
        if month < 0:
            return False
        if month < self._drained:
            # A month already written out can take no more lines: that would be a generator bug.
            raise RuntimeError(f"{command['type']} at {t} lands in a month already emitted")
        self._seq += 1
        self._buckets[month].append((t, self._seq, command))
        return True

    def drain(self, month: int) -> list[Command]:
        """Commands of one month in (time, generation order); the month is then sealed."""
        bucket = self._buckets[month]
        self._buckets[month] = []
        self._drained = month + 1
        bucket.sort(key=_ORDER)
        return [command for _, _, command in bucket]
