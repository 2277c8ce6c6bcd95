"""Cross-department work on a deal: requirement approvals and contract terms."""

from __future__ import annotations

from adapters.simulation import texts
from adapters.simulation.activities import attach_document
from adapters.simulation.org import Org
from adapters.simulation.records import Deal
from adapters.simulation.schedule import Command
from adapters.simulation.sim import Sim

DEPARTMENTS = ("presales", "legal", "delivery")
SLA_MINUTES = {"presales": 120, "legal": 240, "delivery": 60}


def submit_requirement(sim: Sim, org: Org, deal: Deal) -> None:
    rng = sim.rng
    stamp = sim.advance(deal, 1, 24)
    departments = [d for d in DEPARTMENTS if rng.random() < 0.55] or [rng.choice(DEPARTMENTS)]
    request_id = sim.new_id("rq")
    sim.emit_deal(
        deal,
        {
            "type": "SubmitRequirement",
            "request_id": request_id,
            "deal_id": deal.deal_id,
            "departments": departments,
            "occurred_at": stamp,
        },
    )
    for department in departments:
        # Some requests are never answered: the SLA board should see breaches pile up.
        if rng.random() < 0.07:
            continue
        sla = SLA_MINUTES[department]
        late = rng.random() < 0.2
        t = deal.t + (rng.randint(sla + 1, sla * 6) if late else rng.randint(5, sla - 1))
        command: Command = {
            "type": "DecideRequirement",
            "request_id": request_id,
            "department": department,
        }
        if rng.random() < 0.8:
            command["decision"] = "approve"
        else:
            command["decision"] = "reject"
            command["reason"] = rng.choice(texts.REJECT_REASONS)
        command["by"] = _decider(sim, org, department)
        command["occurred_at"] = sim.stamp(t)
        sim.emit(t, command)


def _decider(sim: Sim, org: Org, department: str) -> str:
    if department == "presales" and org.presales:
        return sim.rng.choice(org.presales).rep_id
    return texts.person_name(sim.rng)


def submit_contract(sim: Sim, deal: Deal) -> None:
    rng = sim.rng
    attach_document(sim, deal, "contract")
    stamp = sim.advance(deal, 1, 48)
    risky = rng.random() < 0.15
    term = rng.choice((120, 180)) if risky and rng.random() < 0.6 else rng.choice((30, 45, 60, 90))
    penalty = (
        rng.choice(("0.25", "0.3"))
        if risky and rng.random() < 0.6
        else rng.choice(("0.05", "0.1", "0.15", "0.2"))
    )
    sim.emit_deal(
        deal,
        {
            "type": "SubmitContract",
            "contract_id": sim.new_id("k"),
            "deal_id": deal.deal_id,
            "payment_term_days": term,
            "penalty_ratio": penalty,
            "occurred_at": stamp,
        },
    )
