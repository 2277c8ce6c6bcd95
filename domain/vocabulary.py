from __future__ import annotations

from enum import StrEnum


class ActivityKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    DEEP_VISIT = "deep_visit"
    DEMO = "demo"
    COMPETITOR_ANALYSIS = "competitor_analysis"
    EXEC_INTRO = "exec_intro"

    @property
    def is_visit(self) -> bool:
        return self in (ActivityKind.VISIT, ActivityKind.DEEP_VISIT)


class DocumentKind(StrEnum):
    REQUIREMENT_CONFIRMATION = "requirement_confirmation"
    MEETING_MINUTES = "meeting_minutes"
    QUOTE = "quote"
    CONTRACT = "contract"


class Department(StrEnum):
    PRESALES = "presales"
    LEGAL = "legal"
    DELIVERY = "delivery"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
