"""Queries on the collaboration read model: the SLA board at an instant, and what the watcher owes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.doc_view import DocView
from domain.vocabulary import Department
from projections.collaboration import department_board, department_part, empty_counters
from projections.read_model import Document, instant_key

COLLABORATION = "collaboration"


def _through(now: datetime) -> str:
    # Sort keys are `instant:request`; the range end is exclusive, so a deadline equal to now is in.
    return instant_key(now + timedelta(microseconds=1))


def _hours(delta: timedelta) -> str:
    return str((Decimal(delta.total_seconds()) / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP))


def board(view: DocView, sla_hours: Mapping[str, float], now: datetime) -> dict[str, Any]:
    """Per department: counters since the beginning, and open / overdue requests as of `now`."""
    departments: list[Document] = []
    overdue: list[Document] = []
    for department in Department:
        counters = view.get(COLLABORATION, "department", department.value) or empty_counters(department.value)
        part = department_part(department.value)
        awaiting = view.part(COLLABORATION, "awaiting", part)
        late = [doc for _, doc in view.part(COLLABORATION, "awaiting", part, until=_through(now))]
        departments.append(
            department_board(counters, len(awaiting), len(late), sla_hours.get(department.value))
        )
        overdue += [
            {**doc, "overdue_hours": _hours(now - datetime.fromisoformat(doc["deadline"]))} for doc in late
        ]
    overdue.sort(key=lambda doc: (instant_key(datetime.fromisoformat(doc["deadline"])), doc["request_id"]))
    risks = sorted(
        (doc for _, doc in view.kind(COLLABORATION, "risk")),
        key=lambda doc: (
            instant_key(datetime.fromisoformat(doc["submitted_at"])),
            doc["contract_id"],
            doc["rule"],
        ),
    )
    return {"as_of": now.isoformat(), "departments": departments, "overdue": overdue, "contract_risks": risks}


def due_breaches(view: DocView, now: datetime) -> list[Document]:
    """Departments past their deadline at `now` with neither a decision nor a recorded breach."""
    return [doc for _, doc in view.part(COLLABORATION, "due", "due", until=_through(now))]


def breach_recorded_after(view: DocView, due: Document, position: int) -> Document | None:
    breach = view.get(COLLABORATION, "breach", f"{due['request_id']}:{due['department']}")
    return breach if breach is not None and int(breach["position"]) > position else None
