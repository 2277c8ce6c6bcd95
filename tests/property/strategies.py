"""Hypothesis strategies: random but valid command sequences on a small organisation."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.builders import EVIDENCE, org

STAGES = ["lead", "qualified", "needs_confirmed", "solution_demo", "quotation", "negotiation"]
KINDS = ["call", "visit", "deep_visit", "demo", "competitor_analysis", "exec_intro"]
DEALS = ["d1", "d2", "d3"]
REPS = ["ka", "smb"]


def stamp(minute: int) -> str:
    day, rest = divmod(minute, 24 * 60)
    hour, minute = divmod(rest, 60)
    return f"2026-01-{day + 2:02d}T{hour:02d}:{minute:02d}:00+08:00"


@st.composite
def action(draw: st.DrawFn, t: str, minute: int) -> dict[str, Any]:
    deal = draw(st.sampled_from(DEALS))
    rep = draw(st.sampled_from(REPS))
    when = stamp(minute)
    base = {"deal_id": f"{deal}-{t}", "occurred_at": when}
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return {
            "type": "OpenDeal",
            "deal_id": f"{deal}-{t}",
            "customer_id": f"c-{t}",
            "owner_rep_id": f"{rep}-{t}",
            "expected_amount": str(draw(st.integers(0, 10**6))),
            "occurred_at": when,
        }
    if choice in (1, 2, 3):
        kind = draw(st.sampled_from(KINDS))
        cmd = base | {"type": "LogActivity", "rep_id": f"{rep}-{t}", "kind": kind}
        if kind in ("visit", "deep_visit"):
            cmd["evidence"] = EVIDENCE
        return cmd
    if choice == 4:
        return base | {
            "type": "AttachDocument",
            "kind": draw(st.sampled_from(["requirement_confirmation", "meeting_minutes", "quote"])),
            "name": "x.pdf",
        }
    if choice == 5:
        return base | {
            "type": "SubmitDemoReport",
            "audience_role": "CTO",
            "product_line": "PLC",
            "outcome": "positive",
            "notes": "n",
        }
    if choice in (6, 7):
        return base | {"type": "MoveStage", "rep_id": f"{rep}-{t}", "to_stage": draw(st.sampled_from(STAGES))}
    if choice == 8:
        return base | {"type": "ReassignDeal", "owner_rep_id": f"{rep}-{t}"}
    if draw(st.booleans()):
        return base | {"type": "LoseDeal", "reason": "price"}
    return {
        "type": "BookOrder",
        "order_id": f"o{minute}-{t}",
        "deal_id": f"{deal}-{t}",
        "amount": "1000",
        "gross_margin": "100",
        "signed_on": when[:10],
        "occurred_at": when,
    }


@st.composite
def histories(draw: st.DrawFn, t: str) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 40))
    minutes = sorted(draw(st.lists(st.integers(0, 20 * 24 * 60), min_size=count, max_size=count)))
    return [*org(t), *(draw(action(t, minute)) for minute in minutes)]


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def junk(draw: st.DrawFn, valid: list[dict[str, Any]]) -> dict[str, Any]:
    """A valid command with one field removed, retyped or replaced, or an object of random keys."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.dictionaries(st.text(max_size=10), json_values, max_size=5))
    command = dict(draw(st.sampled_from(valid)))
    field = draw(st.sampled_from(sorted(command)))
    mutation = draw(st.integers(0, 2))
    if mutation == 0:
        del command[field]
    elif mutation == 1:
        command[field] = draw(json_values)
    else:
        command[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return command
