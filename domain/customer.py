from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import aggregate_id


class Customer(Aggregate):
    @staticmethod
    def create_id(customer_id: str) -> UUID:
        return aggregate_id("customer", customer_id)

    @event("Registered")
    def __init__(
        self, customer_id: str, name: str, industry: str, region: str, occurred_at: datetime
    ) -> None:
        self.customer_id = customer_id
        self.name = name
        self.industry = industry
        self.region = region
        self.tags: tuple[str, ...] = ()
        self.nps_scores = 0
        self.complaints = 0

    def tag(self, tags: list[str], occurred_at: datetime) -> None:
        new = [tag for tag in dict.fromkeys(tags) if tag not in self.tags]
        if not new:
            raise DomainError("tags", f"customer {self.customer_id} already has every one of these tags")
        self._tagged(new, occurred_at)

    @event("Tagged")
    def _tagged(self, tags: list[str], occurred_at: datetime) -> None:
        self.tags = (*self.tags, *tags)

    @event("NpsRecorded")
    def record_nps(self, score: int, occurred_at: datetime) -> None:
        self.nps_scores += 1

    @event("ComplaintLogged")
    def log_complaint(self, note: str, occurred_at: datetime) -> None:
        self.complaints += 1


class Contact(Aggregate):
    @staticmethod
    def create_id(contact_id: str) -> UUID:
        return aggregate_id("contact", contact_id)

    @event("Added")
    def __init__(
        self,
        contact_id: str,
        customer_id: str,
        name: str,
        title: str,
        phone: str | None,
        occurred_at: datetime,
    ) -> None:
        self.contact_id = contact_id
        self.customer_id = customer_id
        self.name = name
        self.title = title
        self.phone = phone
        self.left_company = False

    def update(self, title: str | None, left_company: bool | None, occurred_at: datetime) -> None:
        if title is None and left_company is None:
            raise DomainError("title", "UpdateContact needs title or left_company")
        if title == self.title and left_company in (None, self.left_company):
            raise DomainError("title", f"contact {self.contact_id} already has title {title!r}")
        self._updated(title, left_company, occurred_at)

    @event("Updated")
    def _updated(self, title: str | None, left_company: bool | None, occurred_at: datetime) -> None:
        if title is not None:
            self.title = title
        if left_company is not None:
            self.left_company = left_company
