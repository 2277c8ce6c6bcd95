from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from domain.stages import Stage, stages_entered
from domain.vocabulary import ActivityKind, DocumentKind


class StageRequirement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    documents_any: tuple[DocumentKind, ...] = ()
    demo_reports: int = Field(default=0, ge=0)
    activities: dict[ActivityKind, int] = Field(default_factory=dict)


class GatePolicy(BaseModel):
    """Stage requirements, plus extra requirements per owner role (role templates)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    stages: dict[Stage, StageRequirement] = Field(default_factory=dict)
    roles: dict[str, dict[Stage, StageRequirement]] = Field(default_factory=dict)
    visit_evidence_required: bool = True

    def missing(
        self, facts: DealFacts, from_stage: Stage, to_stage: Stage, role: str
    ) -> list[dict[str, object]]:
        gaps: list[dict[str, object]] = []
        for stage in stages_entered(from_stage, to_stage):
            for requirement in self.requirements(stage, role):
                gaps.extend(_gaps(stage, requirement, facts))
        return gaps

    def requirements(self, stage: Stage, role: str) -> list[StageRequirement]:
        found = [self.stages[stage]] if stage in self.stages else []
        role_template = self.roles.get(role, {})
        if stage in role_template:
            found.append(role_template[stage])
        return found


@dataclass(frozen=True)
class DealFacts:
    """What a deal has on record that gates can ask about."""

    documents: frozenset[str] = frozenset()
    demo_reports: int = 0
    activities: Mapping[str, int] = field(default_factory=dict)


def _gaps(stage: Stage, requirement: StageRequirement, facts: DealFacts) -> list[dict[str, object]]:
    gaps: list[dict[str, object]] = []
    if requirement.documents_any and not facts.documents.intersection(requirement.documents_any):
        kinds = "|".join(requirement.documents_any)
        gaps.append({"stage": stage.value, "item": f"document:{kinds}", "required": 1, "have": 0})
    if facts.demo_reports < requirement.demo_reports:
        gaps.append(
            {
                "stage": stage.value,
                "item": "demo_report",
                "required": requirement.demo_reports,
                "have": facts.demo_reports,
            }
        )
    for kind, required in requirement.activities.items():
        have = facts.activities.get(kind.value, 0)
        if have < required:
            gaps.append(
                {
                    "stage": stage.value,
                    "item": f"activity:{kind.value}",
                    "required": required,
                    "have": have,
                }
            )
    return gaps


def describe(missing: list[dict[str, object]]) -> str:
    by_stage: dict[object, list[str]] = {}
    for gap in missing:
        by_stage.setdefault(gap["stage"], []).append(f"{gap['item']} ({gap['have']} of {gap['required']})")
    return "; ".join(f"for {stage}: {', '.join(items)}" for stage, items in by_stage.items())


DEFAULT_GATE_POLICY = GatePolicy(
    version=1,
    stages={
        Stage.QUOTATION: StageRequirement(
            documents_any=(DocumentKind.REQUIREMENT_CONFIRMATION, DocumentKind.MEETING_MINUTES),
            demo_reports=1,
        )
    },
    roles={
        "key_account": {
            Stage.QUOTATION: StageRequirement(
                activities={
                    ActivityKind.DEEP_VISIT: 3,
                    ActivityKind.COMPETITOR_ANALYSIS: 2,
                    ActivityKind.EXEC_INTRO: 1,
                }
            )
        }
    },
)
