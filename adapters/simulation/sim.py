"""The state one simulation run shares: its random stream, calendar, schedule and id counters."""

from __future__ import annotations

import random
from collections.abc import Mapping

from adapters.simulation.calendar import HOUR, Calendar, close_times, office_hours
from adapters.simulation.planting import Planting
from adapters.simulation.records import Deal
from adapters.simulation.schedule import Command, Schedule


class Truncated(Exception):
    """A deal's next step falls after the simulated span: the deal simply stays as it is."""


class Sim:
    def __init__(self, seed: int, start: str, months: int, plant: Mapping[str, float] | None = None) -> None:
        self.rng = random.Random(seed)
        self.planting = None if plant is None else Planting(plant, seed)
        self.calendar = Calendar(start, months)
        self.schedule = Schedule(self.calendar)
        self.closes = close_times(self.calendar, self.rng)
        self._counters: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        number = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = number
        return f"{prefix}-{number:06d}"

    def emit(self, t: int, command: Command) -> bool:
        return self.schedule.add(t, command)

    def stamp(self, t: int) -> str:
        return self.calendar.stamp(t)

    def advance(self, deal: Deal, low_hours: float, high_hours: float) -> str:
        """Move the deal's clock forward to its next action and return the stamp."""
        delay = self.rng.randint(int(low_hours * HOUR), int(high_hours * HOUR))
        t = office_hours(deal.t + delay, self.rng)
        if t >= self.calendar.horizon:
            raise Truncated
        deal.t = t
        return self.calendar.stamp(t)

    def emit_deal(self, deal: Deal, command: Command) -> None:
        """Emit a command stamped at the deal's current clock."""
        self.schedule.add(deal.t, command)
