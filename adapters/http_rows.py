"""Row-level read rules: whose pay, deals and history a token may read.

rep      its own rows only;            manager  the reps of its team (team from each rep's Onboarded);
finance  every rep's pay;              auditor  everything, read-only;  admin  everything;
presales customer history (customers, their contacts and deals), read-only.
A request for rows outside the token's reach is refused (403), never answered with an empty list.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.http_auth import Guard
from adapters.http_directory import Directory

ALL_ROWS = ("finance", "auditor", "admin")
# Audit subjects per role, besides the rows rules below (auditor and admin read every subject).
AUDIT_SUBJECTS = {
    "rep": ("deal", "rep"),
    "manager": ("deal", "rep"),
    "presales": ("customer", "contact", "deal"),
    "finance": ("period", "order", "rep"),
}


class Rows:
    def __init__(self, guard: Guard, directory: Directory) -> None:
        self.guard = guard
        self.principal = guard.principal
        self.directory = directory

    def in_reach(self, rep_id: str) -> bool:
        role = self.principal.role
        if role in ALL_ROWS:
            return True
        if role == "rep":
            return rep_id == self.principal.rep_id
        if role == "manager":
            return self.directory.team_of(rep_id) == self.principal.team
        return False

    def rep(self, rep_id: str, field: str = "rep_id") -> None:
        if not self.in_reach(rep_id):
            raise self.guard.refuse(field, f"rep {rep_id!r} is outside this token's rows ({self.scope()})")

    def reps(self) -> Callable[[str], bool]:
        """Which reps' rows an unfiltered list shows this token."""
        return self.in_reach

    def deal(self, deal_id: str) -> None:
        if self.principal.role in (*ALL_ROWS, "presales"):
            return
        people = self.directory.deal(deal_id)
        if people is None:
            return  # unknown: the query answers 404 itself; there is no row to protect
        if self.principal.role == "manager" and self.in_reach(people.owner_rep_id):
            return
        if self.principal.role == "rep" and self.principal.rep_id in people.reps:
            return
        raise self.guard.refuse("deal_id", f"deal {deal_id!r} is outside this token's rows ({self.scope()})")

    def audit_subject(self, subject: str, subject_id: str) -> None:
        role = self.principal.role
        if role in ("auditor", "admin"):
            return
        allowed = AUDIT_SUBJECTS.get(role, ())
        if subject not in allowed:
            raise self.guard.refuse(
                "subject", f"a {role} token reads the audit trail of {', '.join(allowed) or 'nothing'}"
            )
        if subject == "rep" and role in ("rep", "manager"):
            self.rep(subject_id, "subject_id")
        elif subject == "deal":
            self.deal(subject_id)

    def scope(self) -> str:
        if self.principal.role == "rep":
            return f"rep {self.principal.rep_id}"
        if self.principal.role == "manager":
            return f"team {self.principal.team}"
        return f"role {self.principal.role}"
