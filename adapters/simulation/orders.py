"""How a won deal ends: the order, late bookings after a close, cancellations, aftercare."""

from __future__ import annotations

from adapters.simulation import texts
from adapters.simulation.calendar import DAY, HOUR
from adapters.simulation.customers import Customers
from adapters.simulation.records import Deal
from adapters.simulation.sim import Sim

CLAWBACK_DAYS = 90


def book_order(sim: Sim, customers: Customers, deal: Deal) -> None:
    rng, calendar = sim.rng, sim.calendar
    sim.advance(deal, 2, 72)
    signed = deal.t
    amount = max(1000, round(deal.expected_amount * rng.uniform(0.8, 1.1), -2))
    margin = round(amount * rng.uniform(0.12, 0.45), -2)
    recorded = signed
    month = calendar.month_of(signed)
    # A late entry: the ERP sends the order after its month was closed; pay follows by adjustment.
    if month < len(sim.closes) and rng.random() < 0.04:
        late = sim.closes[month] + rng.randint(HOUR, 8 * DAY)
        if late < calendar.horizon:
            recorded = late
    deal.t = recorded
    order_id = sim.new_id("o")
    sim.emit_deal(
        deal,
        {
            "type": "BookOrder",
            "order_id": order_id,
            "deal_id": deal.deal_id,
            "amount": str(int(amount)),
            "gross_margin": str(int(margin)),
            "signed_on": calendar.date(signed),
            "occurred_at": sim.stamp(recorded),
        },
    )
    if rng.random() < 0.05:
        _cancel(sim, order_id, signed, recorded)
    if rng.random() < 0.3:
        customers.record_nps(deal.customer, recorded + rng.randint(7 * DAY, 40 * DAY))
    if rng.random() < 0.05:
        customers.complain(deal.customer, recorded + rng.randint(3 * DAY, 60 * DAY))


def _cancel(sim: Sim, order_id: str, signed: int, recorded: int) -> None:
    rng = sim.rng
    signed_day = signed - signed % DAY
    if rng.random() < 0.5:
        days = rng.randint(3, CLAWBACK_DAYS - 5)
    else:
        days = rng.randint(CLAWBACK_DAYS + 5, CLAWBACK_DAYS + 90)
    t = max(recorded + HOUR, signed_day + days * DAY + rng.randint(9 * HOUR, 18 * HOUR))
    sim.emit(
        t,
        {
            "type": "CancelOrder",
            "order_id": order_id,
            "reason": rng.choice(texts.CANCEL_REASONS),
            "occurred_at": sim.stamp(t),
        },
    )
