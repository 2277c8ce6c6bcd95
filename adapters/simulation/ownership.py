"""Who a deal belongs to: opening it, credit splits, reassignment and the first touch."""

from __future__ import annotations

from decimal import Decimal

from adapters.simulation.activities import routine_contact
from adapters.simulation.calendar import DAY, HOUR
from adapters.simulation.customers import Customers
from adapters.simulation.org import Org
from adapters.simulation.records import Deal, Rep
from adapters.simulation.schedule import Command
from adapters.simulation.sim import Sim

_SHARES = (("0.6", "0.4"), ("0.5", "0.5"), ("0.7", "0.3"), ("0.5", "0.3", "0.2"))
_AMOUNTS = {"key_account": (150, 1500), "smb": (10, 120), "channel": (40, 500)}


def open_deal(sim: Sim, org: Org, customers: Customers, deal: Deal) -> None:
    rng = sim.rng
    low, high = _AMOUNTS.get(deal.owner.role, (20, 200))
    deal.expected_amount = rng.randint(low, high) * 1000
    command: Command = {
        "type": "OpenDeal",
        "deal_id": deal.deal_id,
        "customer_id": deal.customer.customer_id,
        "owner_rep_id": deal.owner.rep_id,
        "expected_amount": str(deal.expected_amount),
        "occurred_at": sim.stamp(deal.t),
    }
    if rng.random() < 0.12:
        deal.splits = _split(org, deal.owner, rng.choice(_SHARES))
        if deal.splits:
            command["splits"] = _wire(deal.splits)
    sim.emit_deal(deal, command)
    if rng.random() < 0.25:
        customers.touch_contacts(deal.customer, deal.t + rng.randint(HOUR, DAY))


def first_touch(sim: Sim, deal: Deal) -> None:
    # Most owners call within the 72 h SLA; a few let the lead sit.
    if sim.rng.random() < 0.87:
        routine_contact(sim, deal, 0.3, 46)
    else:
        routine_contact(sim, deal, 74, 160)


def reassign(sim: Sim, org: Org, deal: Deal) -> None:
    new_owner = org.pick_other({deal.owner.rep_id})
    if new_owner is None:
        return
    stamp = sim.advance(deal, 1, 30)
    sim.emit_deal(
        deal,
        {
            "type": "ReassignDeal",
            "deal_id": deal.deal_id,
            "owner_rep_id": new_owner.rep_id,
            "occurred_at": stamp,
        },
    )
    if deal.splits:
        deal.splits = _handover(deal.splits, deal.owner, new_owner)
        sim.emit_deal(
            deal,
            {
                "type": "SetCreditSplit",
                "deal_id": deal.deal_id,
                "splits": _wire(deal.splits),
                "occurred_at": stamp,
            },
        )
    deal.owner = new_owner
    first_touch(sim, deal)


def _split(org: Org, owner: Rep, shares: tuple[str, ...]) -> list[tuple[Rep, Decimal]]:
    """The owner plus distinct partners; no split at all when the org is too small."""
    reps = [owner]
    for _ in shares[1:]:
        other = org.pick_other({rep.rep_id for rep in reps})
        if other is None:
            return []
        reps.append(other)
    return [(rep, Decimal(share)) for rep, share in zip(reps, shares, strict=True)]


def _wire(splits: list[tuple[Rep, Decimal]]) -> list[dict[str, str]]:
    return [{"rep_id": rep.rep_id, "share": str(share)} for rep, share in splits]


def _handover(splits: list[tuple[Rep, Decimal]], old: Rep, new: Rep) -> list[tuple[Rep, Decimal]]:
    """The new owner takes over the old owner's share, merged with any share it already had."""
    pair = (old.rep_id, new.rep_id)
    taken = sum((share for rep, share in splits if rep.rep_id in pair), Decimal(0))
    return [(new, taken), *((rep, share) for rep, share in splits if rep.rep_id not in pair)]
