"""Who may send which command, and on whose rows (admin may send every command).

rep       its own work: deals it owns or is credited on, activities and moves as itself, customers;
manager   the same for every rep of its team, plus onboarding, targets, NPS, reassignment, splits;
presales  decisions of the presales department, as itself;
finance   orders (facts from the ERP), targets, plans, period closes and reruns;
auditor   nothing: it reads.
Watchers' commands (overdue first touches, SLA breaches, service triggers) and gate policies: admin.
"""

from __future__ import annotations

from typing import Any

from adapters.http_auth import Guard
from adapters.http_directory import Directory
from adapters.tokens import Role
from commands.models import AnyCommand

SALES: tuple[Role, ...] = ("rep", "manager")
SENDERS: dict[str, tuple[Role, ...]] = {
    **dict.fromkeys(
        (
            "RegisterCustomer",
            "TagCustomer",
            "AddContact",
            "UpdateContact",
            "LogComplaint",
            "OpenDeal",
            "LogActivity",
            "AttachDocument",
            "SubmitDemoReport",
            "MoveStage",
            "LoseDeal",
            "SubmitRequirement",
            "SubmitContract",
        ),
        SALES,
    ),
    **dict.fromkeys(("OnboardRep", "RecordNps", "ReassignDeal", "SetCreditSplit"), ("manager",)),
    "SetTargets": ("manager", "finance"),
    **dict.fromkeys(("BookOrder", "CancelOrder", "PublishPlan", "ClosePeriod", "ApplyRerun"), ("finance",)),
    "DecideRequirement": ("presales",),
}
# Fields that name the rep a command acts as or for: a rep must be it, a manager must manage it.
ACTING_REP_FIELDS = ("rep_id", "owner_rep_id")


class CommandAccess:
    def __init__(self, guard: Guard, directory: Directory) -> None:
        self.guard = guard
        self.principal = guard.principal
        self.directory = directory

    def check(self, command: AnyCommand) -> None:
        role = self.principal.role
        if role == "admin":
            return
        senders = SENDERS.get(command.type, ())
        if role not in senders:
            who = ", ".join(("admin", *senders))
            raise self.guard.refuse("type", f"{command.type} may be sent by {who}; this token is {role}")
        if role == "presales":
            self._presales(command)
        elif role in SALES:
            self._sales(command)

    def _presales(self, command: Any) -> None:
        if command.department != "presales":
            raise self.guard.refuse("department", "a presales token decides for the presales department only")
        if self.principal.rep_id is not None and command.by != self.principal.rep_id:
            raise self.guard.refuse("by", f"a presales token decides as {self.principal.rep_id} only")

    def _sales(self, command: Any) -> None:
        if command.type == "OnboardRep":
            if command.team != self.principal.team:
                raise self.guard.refuse(
                    "team", f"a manager onboards reps into team {self.principal.team} only"
                )
            return
        for field in ACTING_REP_FIELDS:
            rep_id = getattr(command, field, None)
            if rep_id is not None:
                self._acts_for(rep_id, field)
        splits = getattr(command, "splits", None)
        if splits:
            if self.principal.role == "rep":
                raise self.guard.refuse("splits", "credit splits are set by a manager")
            for index, share in enumerate(splits):
                self._acts_for(share.rep_id, f"splits.{index}.rep_id")
        deal_id = getattr(command, "deal_id", None)
        if deal_id is not None and command.type != "OpenDeal":
            self._works_on(deal_id)

    def _acts_for(self, rep_id: str, field: str) -> None:
        if self.principal.role == "rep" and rep_id != self.principal.rep_id:
            raise self.guard.refuse(field, f"a rep token acts as {self.principal.rep_id} only")
        if self.principal.role == "manager" and self.directory.team_of(rep_id) != self.principal.team:
            raise self.guard.refuse(field, f"rep {rep_id!r} is not in team {self.principal.team}")

    def _works_on(self, deal_id: str) -> None:
        people = self.directory.deal(deal_id)
        if people is None:
            return  # the command is refused as naming an unknown deal; nothing here to protect
        if self.principal.role == "rep" and self.principal.rep_id not in people.reps:
            raise self.guard.refuse(
                "deal_id", f"deal {deal_id!r} is neither owned by nor credited to {self.principal.rep_id}"
            )
        if (
            self.principal.role == "manager"
            and self.directory.team_of(people.owner_rep_id) != self.principal.team
        ):
            raise self.guard.refuse("deal_id", f"deal {deal_id!r} is not owned by team {self.principal.team}")
