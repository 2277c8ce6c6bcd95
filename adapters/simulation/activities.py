"""The work logged on a deal: activities with evidence, documents and demo reports."""

from __future__ import annotations

from adapters.simulation import texts
from adapters.simulation.records import Deal, Rep
from adapters.simulation.schedule import Command
from adapters.simulation.sim import Sim

VISITS = frozenset({"visit", "deep_visit"})
GATE_DOCUMENTS = ("requirement_confirmation", "meeting_minutes")
_DOC_NAMES = {
    "requirement_confirmation": ("需求确认书.pdf", "requirements-signed.pdf"),
    "meeting_minutes": ("会议纪要.docx", "minutes.pdf"),
    "quote": ("报价单.xlsx", "quote-v2.pdf"),
    "contract": ("合同草案.docx", "contract-final.pdf"),
}


def log_activity(
    sim: Sim, deal: Deal, kind: str, rep: Rep | None = None, low_hours: float = 2, high_hours: float = 48
) -> None:
    rng = sim.rng
    stamp = sim.advance(deal, low_hours, high_hours)
    command: Command = {
        "type": "LogActivity",
        "deal_id": deal.deal_id,
        "rep_id": (rep or deal.owner).rep_id,
        "kind": kind,
    }
    if rng.random() < 0.25:
        command["note"] = texts.note(rng)
    if rng.random() < 0.08:
        command["transcript"] = texts.transcript(rng)
    if kind in VISITS:
        # Photo check-in: the hash only has to look like a real SHA-256.
        digest = f"{rng.getrandbits(256):064x}"
        command["evidence"] = {"uri": f"photos/{digest[:12]}.jpg", "sha256": digest, "taken_at": stamp}
    command["occurred_at"] = stamp
    sim.emit_deal(deal, command)
    deal.activities[kind] = deal.activities.get(kind, 0) + 1


def routine_contact(sim: Sim, deal: Deal, low_hours: float = 2, high_hours: float = 48) -> None:
    """A call or a plain visit by the owner, the bread and butter between stage moves."""
    kind = "visit" if sim.rng.random() < 0.3 else "call"
    log_activity(sim, deal, kind, None, low_hours, high_hours)


def attach_document(sim: Sim, deal: Deal, kind: str) -> None:
    stamp = sim.advance(deal, 1, 36)
    sim.emit_deal(
        deal,
        {
            "type": "AttachDocument",
            "deal_id": deal.deal_id,
            "kind": kind,
            "name": sim.rng.choice(_DOC_NAMES[kind]),
            "occurred_at": stamp,
        },
    )
    if kind in GATE_DOCUMENTS:
        deal.has_document = True


def submit_demo_report(sim: Sim, deal: Deal) -> None:
    rng = sim.rng
    stamp = sim.advance(deal, 1, 24)
    outcome = rng.choice(("positive", "positive", "neutral", "negative"))
    sim.emit_deal(
        deal,
        {
            "type": "SubmitDemoReport",
            "deal_id": deal.deal_id,
            "audience_role": rng.choice(texts.AUDIENCES),
            "product_line": rng.choice(texts.PRODUCT_LINES),
            "outcome": outcome,
            "notes": texts.note(rng),
            "occurred_at": stamp,
        },
    )
    deal.has_demo_report = True
