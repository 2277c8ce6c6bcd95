"""The collaboration read model: requirement requests with each department's deadline and decision,
the SLA board per department, and the contract clauses flagged as risks.

Documents (partition / sort):
- `request` per request id (`deal:ID` / submitted instant): departments with deadline, decision,
  response time, lateness and whether a breach was recorded;
- `awaiting` per request and department still without a decision (`department:NAME` / deadline):
  what is overdue at any instant is one range query;
- `due` per request and department without a decision or a recorded breach (`due` / deadline):
  the SLA watcher's work list, also one range query;
- `breach` per recorded `SlaBreached` (`department:NAME` / deadline);
- `department` counters per department;
- `risk` per flagged contract clause (`customer:ID` / submitted instant).
State kept in memory: open requests, contracts, and rejections per department and deal.

Repeat-rejection rate of a department: of the deals it has rejected at least once (on any of the
deal's requests), the share it has rejected on two or more requests — how often a re-submission
comes back rejected again. It does not depend on the order in which decisions were recorded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.ids import event_id
from projections import json_text
from projections.read_model import Changes, DocChange, Document, instant_key, topic_of

SUBMITTED = "domain.requirement:RequirementRequest.Submitted"
DECIDED = "domain.requirement:RequirementRequest.Decided"
BREACHED = "domain.requirement:RequirementRequest.SlaBreached"
CONTRACT = "domain.contract:Contract.Submitted"
RISK = "domain.contract:Contract.RiskFlagged"
COUNTERS = (
    "requests",
    "decided",
    "approved",
    "rejected",
    "late_decisions",
    "response_seconds",
    "breaches",
    "rejected_deals",
    "repeat_rejected_deals",
)


def department_part(department: str) -> str:
    return f"department:{department}"


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class CollaborationBoard:
    name = "collaboration"
    topics: tuple[str, ...] = (SUBMITTED, DECIDED, BREACHED, CONTRACT, RISK)
    state_kinds: tuple[str, ...] = ("open", "contract", "department", "rejections")

    def __init__(self) -> None:
        self.open: dict[str, Document] = {}
        self.contracts: dict[str, Document] = {}
        self.departments: dict[str, Document] = {}
        self.rejections: dict[str, int] = {}
        self.changes = Changes()

    def apply(self, event: Any, position: int) -> None:
        topic = topic_of(event)
        originator = str(event.originator_id)
        if topic == SUBMITTED:
            self._submitted(event, originator)
        elif topic == DECIDED:
            self._decided(event, originator)
        elif topic == BREACHED:
            self._breached(event, originator, position)
        elif topic == CONTRACT:
            self._contract(event, originator)
        elif topic == RISK:
            self._risk(event, originator)

    def _submitted(self, event: Any, originator: str) -> None:
        if originator in self.open:
            raise ValueError(f"request {event.request_id} was already submitted")
        request: Document = {
            "request_id": event.request_id,
            "deal_id": event.deal_id,
            "customer_id": event.customer_id,
            "submitted_at": _iso(event.occurred_at),
            "departments": {
                department: {
                    "deadline": _iso(deadline),
                    "decision": None,
                    "by": None,
                    "reason": None,
                    "decided_at": None,
                    "response_seconds": None,
                    "late": None,
                    "breached": False,
                }
                for department, deadline in sorted(event.deadlines.items())
            },
        }
        self.open[originator] = request
        for department, entry in request["departments"].items():
            self._count(department, requests=1)
            self._awaiting(request, department, entry)
            self.changes.put(
                "due",
                self._key(request, department),
                self._ref(request, department, entry),
                "due",
                self._deadline_sort(entry, request),
            )
        self._save(originator, request)

    def _decided(self, event: Any, originator: str) -> None:
        request = self._request(originator)
        entry = self._undecided(request, event.department)
        entry.update(
            decision=event.decision,
            by=event.by,
            reason=event.reason,
            decided_at=_iso(event.occurred_at),
            response_seconds=int(event.response_seconds),
            late=bool(event.late),
        )
        department = event.department
        self._count(
            department,
            decided=1,
            response_seconds=int(event.response_seconds),
            late_decisions=int(bool(event.late)),
            approved=int(event.decision == "approve"),
            rejected=int(event.decision == "reject"),
        )
        if event.decision == "reject":
            self._rejected(department, request["deal_id"])
        key = self._key(request, department)
        self.changes.delete("awaiting", key)
        self.changes.delete("due", key)
        self._save(originator, request)
        if all(e["decision"] is not None for e in request["departments"].values()):
            del self.open[originator]
            self.changes.delete("open", originator)

    def _breached(self, event: Any, originator: str, position: int) -> None:
        request = self._request(originator)
        entry = self._undecided(request, event.department)
        if entry["breached"]:
            raise ValueError(
                f"a breach by {event.department} was already recorded on {request['request_id']}"
            )
        entry["breached"] = True
        department = event.department
        self._count(department, breaches=1)
        key = self._key(request, department)
        self.changes.delete("due", key)
        self._awaiting(request, department, entry)
        breach = {
            **self._ref(request, department, entry),
            "position": position,
            "event_id": event_id(event.originator_id, event.originator_version),
        }
        self.changes.put(
            "breach", key, breach, department_part(department), self._deadline_sort(entry, request)
        )
        self._save(originator, request)

    def _contract(self, event: Any, originator: str) -> None:
        contract = {
            "contract_id": event.contract_id,
            "deal_id": event.deal_id,
            "customer_id": event.customer_id,
            "payment_term_days": int(event.payment_term_days),
            "penalty_ratio": str(event.penalty_ratio),
            "submitted_at": _iso(event.occurred_at),
        }
        self.contracts[originator] = contract
        self.changes.put("contract", originator, contract)

    def _risk(self, event: Any, originator: str) -> None:
        contract = self.contracts[originator]
        risk = {**contract, "rule": event.rule, "detail": event.detail}
        submitted = instant_key(datetime.fromisoformat(contract["submitted_at"]))
        self.changes.put(
            "risk",
            f"{contract['contract_id']}:{event.rule}",
            risk,
            f"customer:{contract['customer_id']}",
            f"{submitted}:{contract['contract_id']}:{event.rule}",
        )

    def _request(self, originator: str) -> Document:
        request = self.open.get(originator)
        if request is None:
            raise KeyError(f"no open requirement request {originator}")
        return request

    @staticmethod
    def _undecided(request: Document, department: str) -> Document:
        entry: Document | None = request["departments"].get(department)
        if entry is None or entry["decision"] is not None:
            raise ValueError(f"{department} has no pending decision on {request['request_id']}")
        return entry

    def _rejected(self, department: str, deal_id: str) -> None:
        key = f"{department}:{deal_id}"
        count = self.rejections.get(key, 0) + 1
        self.rejections[key] = count
        self.changes.put("rejections", key, {"rejections": count})
        if count == 1:
            self._count(department, rejected_deals=1)
        elif count == 2:
            self._count(department, repeat_rejected_deals=1)

    def _count(self, department: str, **increments: int) -> None:
        doc = self.departments.setdefault(department, empty_counters(department))
        for counter, amount in increments.items():
            doc[counter] += amount
        self.changes.put("department", department, dict(doc))

    def _awaiting(self, request: Document, department: str, entry: Document) -> None:
        self.changes.put(
            "awaiting",
            self._key(request, department),
            {**self._ref(request, department, entry), "breached": entry["breached"]},
            department_part(department),
            self._deadline_sort(entry, request),
        )

    def _save(self, originator: str, request: Document) -> None:
        # A copy as it stands now (the fold goes on changing the request), shared by both documents,
        # which nothing changes; the request holds JSON values only, so a JSON round trip copies it, at
        # a fraction of what `deepcopy` costs.
        saved: Document = json_text.loads(json_text.dumps_bytes(request))
        if originator in self.open:
            self.changes.put("open", originator, saved)
        submitted = instant_key(datetime.fromisoformat(request["submitted_at"]))
        self.changes.put(
            "request",
            request["request_id"],
            saved,
            f"deal:{request['deal_id']}",
            f"{submitted}:{request['request_id']}",
        )

    @staticmethod
    def _key(request: Document, department: str) -> str:
        return f"{request['request_id']}:{department}"

    @staticmethod
    def _deadline_sort(entry: Document, request: Document) -> str:
        return f"{instant_key(datetime.fromisoformat(entry['deadline']))}:{request['request_id']}"

    @staticmethod
    def _ref(request: Document, department: str, entry: Document) -> Document:
        return {
            "request_id": request["request_id"],
            "deal_id": request["deal_id"],
            "customer_id": request["customer_id"],
            "department": department,
            "submitted_at": request["submitted_at"],
            "deadline": entry["deadline"],
        }

    def take_changes(self) -> list[DocChange]:
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "open":
            self.open[key] = doc
        elif kind == "contract":
            self.contracts[key] = doc
        elif kind == "department":
            self.departments[key] = doc
        elif kind == "rejections":
            self.rejections[key] = int(doc["rejections"])


def department_board(counters: Document, open_count: int, overdue: int, sla_hours: float | None) -> Document:
    """A department's line on the SLA board, from its counters and what is open at the query instant."""
    decided = int(counters["decided"])
    rejected_deals = int(counters["rejected_deals"])
    mean = (
        (Decimal(int(counters["response_seconds"])) / decided / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if decided
        else None
    )
    rate = (
        (Decimal(int(counters["repeat_rejected_deals"])) / rejected_deals).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        )
        if rejected_deals
        else None
    )
    return {
        "department": counters["department"],
        "sla_hours": sla_hours,
        "requests": int(counters["requests"]),
        "decided": decided,
        "approved": int(counters["approved"]),
        "rejected": int(counters["rejected"]),
        "mean_response_hours": None if mean is None else str(mean),
        "late_decisions": int(counters["late_decisions"]),
        "open": open_count,
        "overdue": overdue,
        "breaches": int(counters["breaches"]),
        "rejected_deals": rejected_deals,
        "repeat_rejected_deals": int(counters["repeat_rejected_deals"]),
        "repeat_rejection_rate": None if rate is None else str(rate),
    }


def empty_counters(department: str) -> Document:
    return {"department": department, **dict.fromkeys(COUNTERS, 0)}
