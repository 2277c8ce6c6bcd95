"""Seeded generator of realistic salesledger command histories in the wire format."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from adapters.simulation.calendar import DAY, HOUR, close_command
from adapters.simulation.customers import Customers
from adapters.simulation.deals import DealWalk
from adapters.simulation.org import Org
from adapters.simulation.plans import publish_plans
from adapters.simulation.records import Deal
from adapters.simulation.sim import Sim

__all__ = ["simulate"]


def simulate(
    reps: int,
    deals: int,
    months: int,
    seed: int,
    start: str = "2026-01",
    plant: Mapping[str, float] | None = None,
) -> Iterator[dict[str, object]]:
    """`plant` (factor -> odds multiplier, see planting.py) turns endings into a controlled experiment;
    without it the history is the same as it always was for the seed."""
    sim = Sim(seed, start, months, plant)
    calendar, rng = sim.calendar, sim.rng
    org = Org(sim, reps)
    customers = Customers(sim)
    morning = 9 * HOUR
    org.onboard(morning)
    publish_plans(sim, morning)
    for month, t in enumerate(sim.closes):
        sim.emit(t, close_command(calendar, month, t))
    per_month = [deals // months + (1 if m < deals % months else 0) for m in range(months)]
    number = 0
    for month, count in enumerate(per_month):
        first_day = calendar.month_start[month]
        org.set_targets(first_day + morning, calendar.periods[month])
        days = calendar.days_in(month)
        # Deals open during working hours; walking them in opening order keeps every customer
        # registered before the first deal that names it.
        opens = sorted(
            first_day + rng.randrange(days) * DAY + rng.randint(10 * HOUR, 19 * HOUR) for _ in range(count)
        )
        for t_open in opens:
            customer = customers.pick(t_open, first_day + morning)
            owner = org.pick_owner(customer.region)
            deal = Deal(sim.new_id("d"), customer, owner, 0, t_open)
            DealWalk(sim, org, customers, deal).run()
        for command in sim.schedule.drain(month):
            number += 1
            yield {"command_id": f"sim{seed}-{number}", **command}
