"""What the simulation remembers about reps, customers and open deals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

STAGES = ("lead", "qualified", "needs_confirmed", "solution_demo", "quotation", "negotiation")
QUOTATION = STAGES.index("quotation")
KEY_ACCOUNT = "key_account"
# The default gate policy: what a key-account deal needs logged before quotation.
KEY_ACCOUNT_NEEDS = {"deep_visit": 3, "competitor_analysis": 2, "exec_intro": 1}


@dataclass(frozen=True, slots=True)
class Rep:
    rep_id: str
    name: str
    role: str
    team: str
    region: str
    quota: int


@dataclass(slots=True)
class Customer:
    customer_id: str
    region: str
    # contact id -> (time of its latest event, current title): no update is dated before an
    # earlier one, and a title change really changes the title.
    contacts: dict[str, tuple[int, str]] = field(default_factory=dict)
    departed: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Deal:
    deal_id: str
    customer: Customer
    owner: Rep
    expected_amount: int
    t: int
    stage: int = 0
    has_document: bool = False
    has_demo_report: bool = False
    activities: dict[str, int] = field(default_factory=dict)
    splits: list[tuple[Rep, Decimal]] = field(default_factory=list)

    def quotation_missing(self) -> list[str]:
        """What the default gate policy would report missing for entering quotation now."""
        missing = []
        if not self.has_document:
            missing.append("requirement_confirmation|meeting_minutes")
        if not self.has_demo_report:
            missing.append("demo_report")
        if self.owner.role == KEY_ACCOUNT:
            for kind, needed in KEY_ACCOUNT_NEEDS.items():
                if self.activities.get(kind, 0) < needed:
                    missing.append(kind)
        return missing
