"""The commission plan `standard`, its mid-run change, and a rerun of a closed period."""

from __future__ import annotations

from adapters.simulation.calendar import DAY, HOUR
from adapters.simulation.schedule import Command
from adapters.simulation.sim import Sim

PLAN_NAME = "standard"
_BONUS_WHEN = "order.first_order && order.gross_margin >= 50000"
_SCORECARD = {"weights": {"sales": "0.4", "margin": "0.3", "nps": "0.2", "process": "0.1"}, "cap": "1.5"}


def plan_document(version: int, effective_from: str) -> dict[str, object]:
    first = version == 1
    return {
        "name": PLAN_NAME,
        "version": version,
        "effective_from": effective_from,
        "rates": {"first_order": "0.04" if first else "0.045", "repeat_order": "0.02" if first else "0.018"},
        "accelerators": {
            "mode": "marginal" if first else "retroactive",
            "bands": [
                {"from": "0", "multiplier": "1"},
                {"from": "1.0", "multiplier": "1.5"},
                {"from": "1.5", "multiplier": "2"},
            ],
        },
        "bonuses": [{"id": "big-first-order", "when": _BONUS_WHEN, "rate": "0.008" if first else "0.01"}],
        "clawback_days": 90,
        "scorecard": _SCORECARD,
    }


def change_month(months: int) -> int | None:
    """The month plan version 2 takes effect from, or None when the run is a single month."""
    return max(1, months // 2) if months >= 2 else None


def publish_plans(sim: Sim, t_start: int) -> None:
    calendar = sim.calendar
    sim.emit(t_start, {"type": "PublishPlan", "plan": plan_document(1, calendar.periods[0])})
    month = change_month(calendar.months)
    if month is None:
        return
    # Finance publishes the new plan around the 20th of the month before it applies.
    t = calendar.month_start[month - 1] + 19 * DAY + 10 * HOUR
    sim.emit(t, {"type": "PublishPlan", "plan": plan_document(2, calendar.periods[month])})
    # Then reruns the month before the change under the new plan once that month is closed.
    rerun = max(t, sim.closes[month - 1]) + 2 * DAY + sim.rng.randrange(6 * HOUR)
    command: Command = {
        "type": "ApplyRerun",
        "period": calendar.periods[month - 1],
        "plan": f"{PLAN_NAME}@2",
        "approved_by": "cfo",
        "occurred_at": sim.stamp(rerun),
    }
    sim.emit(rerun, command)
