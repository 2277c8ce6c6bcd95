"""The funnel walk of one deal: stage by stage through the gates to its end."""

from __future__ import annotations

import contextlib

from adapters.simulation import texts
from adapters.simulation.activities import (
    GATE_DOCUMENTS,
    attach_document,
    log_activity,
    routine_contact,
    submit_demo_report,
)
from adapters.simulation.calendar import DAY
from adapters.simulation.collab import submit_contract, submit_requirement
from adapters.simulation.customers import Customers
from adapters.simulation.orders import book_order
from adapters.simulation.org import Org
from adapters.simulation.ownership import first_touch, open_deal, reassign
from adapters.simulation.records import KEY_ACCOUNT, KEY_ACCOUNT_NEEDS, QUOTATION, STAGES, Deal
from adapters.simulation.sim import Sim, Truncated

NEGOTIATION = QUOTATION + 1


class DealWalk:
    def __init__(self, sim: Sim, org: Org, customers: Customers, deal: Deal) -> None:
        self.sim, self.org, self.customers, self.deal = sim, org, customers, deal

    def run(self) -> None:
        with contextlib.suppress(Truncated):
            self._walk()

    def _walk(self) -> None:
        sim, deal, rng = self.sim, self.deal, self.sim.rng
        open_deal(sim, self.org, self.customers, deal)
        if rng.random() < 0.06:
            reassign(sim, self.org, deal)
        else:
            first_touch(sim, deal)
        fate = rng.random()
        if fate < 0.45:
            final, ending = (NEGOTIATION if rng.random() < 0.55 else QUOTATION), "won"
        elif fate < 0.75:
            final, ending = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5)), "lost"
        else:
            final, ending = rng.choice((0, 1, 2, 3, 4, 5)), "open"
        regressed = False
        # A planting decides the ending of a deal that would close past quotation when it gets there.
        closes_past_quotation = ending == "won" or (ending == "lost" and final >= QUOTATION)
        planting = sim.planting if closes_past_quotation else None
        while deal.stage < final:
            target = deal.stage + 1
            if target < final and rng.random() < 0.05:
                target += 1
            self._prepare(target)
            self._move(target)
            if planting is not None and deal.stage >= QUOTATION:
                ending = "won" if planting.wins(deal) else "lost"
                planting = None
            self._after_entering(target)
            if not regressed and deal.stage >= 3 and rng.random() < 0.05:
                regressed = True
                self._emit_move(rng.randint(max(1, deal.stage - 2), deal.stage - 1))
            if rng.random() < 0.02:
                reassign(sim, self.org, deal)
        if ending == "won":
            book_order(sim, self.customers, deal)
        elif ending == "lost":
            stamp = sim.advance(deal, 4, 240)
            sim.emit_deal(
                deal,
                {
                    "type": "LoseDeal",
                    "deal_id": deal.deal_id,
                    "reason": rng.choice(texts.LOSS_REASONS),
                    "occurred_at": stamp,
                },
            )
        elif rng.random() < 0.5:
            routine_contact(sim, deal)

    def _prepare(self, target: int) -> None:
        sim, deal, rng = self.sim, self.deal, self.sim.rng
        routine_contact(sim, deal)
        if rng.random() < 0.25:
            routine_contact(sim, deal)
        if STAGES[target] == "needs_confirmed" and rng.random() < 0.55:
            attach_document(sim, deal, rng.choice(GATE_DOCUMENTS))
        if 2 <= target <= QUOTATION and rng.random() < 0.35:
            # Groundwork a careful rep does whatever the policy asks of their role.
            log_activity(sim, deal, rng.choice(tuple(KEY_ACCOUNT_NEEDS)))

    def _after_entering(self, stage: int) -> None:
        sim, deal, rng = self.sim, self.deal, self.sim.rng
        if deal.stage != stage:
            return
        if STAGES[stage] == "solution_demo":
            log_activity(sim, deal, "demo", self.org.supporter(deal.owner))
            if rng.random() < 0.7:
                submit_demo_report(sim, deal)
        elif stage == QUOTATION:
            attach_document(sim, deal, "quote")
            if rng.random() < 0.3:
                submit_requirement(sim, self.org, deal)
            if rng.random() < 0.25:
                self.customers.touch_contacts(deal.customer, deal.t + rng.randint(1, DAY))
        elif stage == NEGOTIATION and rng.random() < 0.4:
            submit_contract(sim, deal)
        if rng.random() < 0.05:
            self.customers.record_nps(deal.customer, deal.t + rng.randint(1, DAY))

    def _move(self, target: int) -> None:
        deal, rng = self.deal, self.sim.rng
        if deal.stage < QUOTATION <= target:
            # Now and then a rep tries to quote before the work is done; the gate refuses it.
            if rng.random() < 0.06 and deal.quotation_missing():
                self._emit_move(QUOTATION, blocked=True)
            self._meet_gate()
        self._emit_move(target)

    def _meet_gate(self) -> None:
        sim, deal, rng = self.sim, self.deal, self.sim.rng
        if not deal.has_document:
            attach_document(sim, deal, rng.choice(GATE_DOCUMENTS))
        if not deal.has_demo_report:
            if not deal.activities.get("demo"):
                log_activity(sim, deal, "demo", self.org.supporter(deal.owner))
            submit_demo_report(sim, deal)
        if deal.owner.role == KEY_ACCOUNT:
            for kind, needed in KEY_ACCOUNT_NEEDS.items():
                for _ in range(needed - deal.activities.get(kind, 0)):
                    log_activity(sim, deal, kind, low_hours=1, high_hours=30)

    def _emit_move(self, target: int, blocked: bool = False) -> None:
        sim, deal = self.sim, self.deal
        stamp = sim.advance(deal, 2, 60)
        sim.emit_deal(
            deal,
            {
                "type": "MoveStage",
                "deal_id": deal.deal_id,
                "rep_id": deal.owner.rep_id,
                "to_stage": STAGES[target],
                "occurred_at": stamp,
            },
        )
        if not blocked:
            deal.stage = target
