"""The monthly action-quality report per rep: activities by kind against the role's template, blocked
moves and what they lacked, time in stage against the rep's team, and the action tags seen."""

from __future__ import annotations

from collections.abc import Mapping

from domain.gates import DEFAULT_GATE_POLICY, GatePolicy
from domain.stages import FUNNEL
from projections.funnel import NAME
from projections.funnel_report import Docs, counted, hours
from projections.read_model import Document


def template_rows(policy: GatePolicy, role: str, doc: Document) -> list[Document]:
    """Per stage and activity kind the template asks for: what it asks per deal, what the rep logged
    in the period, and how many of the rep's deals passing that stage in the period had it."""
    asked = {
        f"{stage.value}:{kind.value}": {"stage": stage.value, "kind": kind.value, "required": n}
        for stage in FUNNEL
        for requirement in policy.requirements(stage, role)
        for kind, n in requirement.activities.items()
    }
    worked = len(doc["deals"])
    rows = []
    # Checks made under an earlier policy still show, with what that policy asked.
    for key, row in {**doc["template"], **asked}.items():
        checked = doc["template"].get(key, {})
        logged = doc["activities"].get(row["kind"], 0)
        deals, met = checked.get("deals", 0), checked.get("met", 0)
        rows.append(
            {
                "stage": row["stage"],
                "kind": row["kind"],
                "required_per_deal": row["required"],
                "logged": logged,
                "per_deal_worked": round(logged / worked, 2) if worked else None,
                "deals_passing_stage": deals,
                "deals_meeting_template": met,
                "flagged": met < deals,
            }
        )
    return rows


def action_quality(
    docs: Docs, period: str, reps: Mapping[str, Document], tags: Mapping[str, Mapping[str, int]]
) -> Document:
    """One row per rep in `reps` (rep id → {team, role}); tags: action tags seen per rep in the period."""
    stored = docs.get(NAME, "policy", "current")
    policy = GatePolicy.model_validate(stored) if stored is not None else DEFAULT_GATE_POLICY
    quality = {doc["group"]: doc for _, doc in docs.part(NAME, "quality", period) if doc["group"] in reps}
    by_rep = counted(docs, "cell", period, "rep")
    by_team = counted(docs, "cell", period, "team")
    rows = []
    for rep, info in sorted(reps.items()):
        doc = quality.get(rep) or {"activities": {}, "deals": [], "moves": 0, "blocked": 0, "missing": {}}
        doc.setdefault("template", {})
        in_stage = []
        for stage in FUNNEL:
            mine = hours(by_rep.get((rep, stage.value), {}).get("stay_seconds", []))
            if mine["stays"]:
                team = hours(by_team.get((info["team"], stage.value), {}).get("stay_seconds", []))
                in_stage.append(
                    {
                        "stage": stage.value,
                        "stays": mine["stays"],
                        "mean_hours": mine["mean"],
                        "team_mean_hours": team["mean"],
                        "slower_than_team": mine["mean"] > team["mean"],
                    }
                )
        rows.append(
            {
                "rep": rep,
                "team": info["team"],
                "role": info["role"],
                "activities": dict(sorted(doc["activities"].items())),
                "deals_worked": len(doc["deals"]),
                "template": template_rows(policy, info["role"], doc),
                "stage_moves": doc["moves"],
                "blocked_moves": doc["blocked"],
                "missing": dict(sorted(doc["missing"].items())),
                "time_in_stage": in_stage,
                "tags": dict(sorted(tags.get(rep, {}).items())),
            }
        )
    return {"period": period, "policy_version": policy.version, "reps": rows}
