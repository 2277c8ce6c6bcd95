from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    LEAD = "lead"
    QUALIFIED = "qualified"
    NEEDS_CONFIRMED = "needs_confirmed"
    SOLUTION_DEMO = "solution_demo"
    QUOTATION = "quotation"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"

    @property
    def is_open(self) -> bool:
        return self not in (Stage.WON, Stage.LOST)

    @property
    def rank(self) -> int:
        return FUNNEL.index(self)


FUNNEL: tuple[Stage, ...] = (
    Stage.LEAD,
    Stage.QUALIFIED,
    Stage.NEEDS_CONFIRMED,
    Stage.SOLUTION_DEMO,
    Stage.QUOTATION,
    Stage.NEGOTIATION,
)
OPEN_STAGES = frozenset(FUNNEL)


def stages_entered(from_stage: Stage, to_stage: Stage) -> tuple[Stage, ...]:
    """Every stage a forward move enters or passes, in funnel order."""
    return FUNNEL[from_stage.rank + 1 : to_stage.rank + 1]
