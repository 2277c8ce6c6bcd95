"""The service read model: customers registered and complaints logged per customer group (region,
industry) and day, by business time, and the service-improvement triggers recorded so far.

Documents (partition / sort):
- `day` per grouping, group and day (`GROUPING:GROUP` / ISO date): registered, complaints;
- `group` per grouping and group (`GROUPING` / group);
- `alert` per recorded `ServiceImprovementTriggered` (`GROUPING:GROUP` / last window).
Metrics are computed over calendar windows at query time (`observations`), so a complaint or a
registration recorded late with an earlier business time still lands in its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.alert_rules import Metric
from domain.calendar_windows import WindowKind, next_window, window_end, window_of
from domain.ids import event_id
from projections.read_model import Changes, DocChange, Document, topic_of

REGISTERED = "domain.customer:Customer.Registered"
COMPLAINT = "domain.customer:Customer.ComplaintLogged"
TRIGGERED = "domain.service_alerts:ServiceAlerts.ServiceImprovementTriggered"
GROUPINGS = ("region", "industry")


def alert_key(rule: str, grouping: str, group: str, last_window: str) -> str:
    return f"{rule}:{grouping}:{group}:{last_window}"


class CustomerService:
    name = "service"
    topics: tuple[str, ...] = (REGISTERED, COMPLAINT, TRIGGERED)
    state_kinds: tuple[str, ...] = ("customer", "day")

    def __init__(self) -> None:
        self.customers: dict[str, Document] = {}
        self.days: dict[str, Document] = {}
        self.changes = Changes()

    def apply(self, event: Any, position: int) -> None:
        topic = topic_of(event)
        originator = str(event.originator_id)
        if topic == REGISTERED:
            customer = {"customer_id": event.customer_id, "region": event.region, "industry": event.industry}
            self.customers[originator] = customer
            self.changes.put("customer", originator, customer)
            for grouping in GROUPINGS:
                self.changes.put(
                    "group",
                    f"{grouping}:{customer[grouping]}",
                    {"grouping": grouping, "group": customer[grouping]},
                    grouping,
                    customer[grouping],
                )
                self._bump(grouping, customer[grouping], event.occurred_at, "registered")
        elif topic == COMPLAINT:
            customer = self.customers[originator]
            for grouping in GROUPINGS:
                self._bump(grouping, customer[grouping], event.occurred_at, "complaints")
        elif topic == TRIGGERED:
            last = event.windows[-1]
            alert = {
                "rule": event.rule,
                "grouping": event.grouping,
                "group": event.group,
                "windows": list(event.windows),
                "values": [str(value) for value in event.values],
                "threshold": str(event.threshold),
                "occurred_at": event.occurred_at.isoformat(),
                "position": position,
                "event_id": event_id(event.originator_id, event.originator_version),
            }
            self.changes.put(
                "alert",
                alert_key(event.rule, event.grouping, event.group, last),
                alert,
                f"{event.grouping}:{event.group}",
                f"{last}:{event.rule}",
            )

    def _bump(self, grouping: str, group: str, moment: datetime, counter: str) -> None:
        day = moment.date().isoformat()
        key = f"{grouping}:{group}:{day}"
        doc = self.days.setdefault(
            key, {"grouping": grouping, "group": group, "day": day, "registered": 0, "complaints": 0}
        )
        doc[counter] += 1
        self.changes.put("day", key, dict(doc), f"{grouping}:{group}", day)

    def take_changes(self) -> list[DocChange]:
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "customer":
            self.customers[key] = doc
        elif kind == "day":
            self.days[key] = doc


@dataclass(frozen=True)
class Observation:
    window: str
    complaints: int
    # Customers of the group registered before the window ended.
    customers: int

    def value(self, metric: Metric) -> Decimal | None:
        if metric == "complaints":
            return Decimal(self.complaints)
        return Decimal(self.complaints) / self.customers if self.customers else None


def observations(days: Sequence[Document], kind: WindowKind, until: date) -> list[Observation]:
    """One observation per window, every window from the group's first day to the last one that
    has ended by `until`; `days` are a group's day documents in date order."""
    if not days:
        return []
    found: list[Observation] = []
    window = window_of(date.fromisoformat(days[0]["day"]), kind)
    customers = 0
    index = 0
    while window_end(window) <= until:
        end = window_end(window)
        complaints = 0
        while index < len(days) and date.fromisoformat(days[index]["day"]) < end:
            customers += int(days[index]["registered"])
            complaints += int(days[index]["complaints"])
            index += 1
        found.append(Observation(window, complaints, customers))
        window = next_window(window)
    return found
