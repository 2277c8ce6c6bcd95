"""Customers: registration, tags, contacts coming and going, NPS and complaints."""

from __future__ import annotations

from adapters.simulation import texts
from adapters.simulation.calendar import HOUR, office_hours
from adapters.simulation.org import REGIONS
from adapters.simulation.records import Customer
from adapters.simulation.schedule import Command
from adapters.simulation.sim import Sim

# NPS answers lean positive, with a tail of detractors.
_SCORES = (0, 3, 5, 6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10)


class Customers:
    def __init__(self, sim: Sim) -> None:
        self._sim = sim
        self._known: list[Customer] = []

    def pick(self, t_open: int, earliest: int) -> Customer:
        """An existing customer (repeat business) or a new one registered shortly before t_open."""
        rng = self._sim.rng
        if self._known and rng.random() < 0.4:
            return rng.choice(self._known)
        t = max(earliest, t_open - rng.randint(HOUR, 72 * HOUR))
        at_work = office_hours(t, rng)
        return self._register(at_work if at_work <= t_open else t)

    def _register(self, t: int) -> Customer:
        sim, rng = self._sim, self._sim.rng
        customer = Customer(sim.new_id("c"), rng.choice(REGIONS))
        sim.emit(
            t,
            {
                "type": "RegisterCustomer",
                "customer_id": customer.customer_id,
                "name": texts.company_name(rng),
                "industry": rng.choice(texts.INDUSTRIES),
                "region": customer.region,
                "occurred_at": sim.stamp(t),
            },
        )
        self._known.append(customer)
        if rng.random() < 0.5:
            tagged = t + rng.randint(5, 240)
            sim.emit(
                tagged,
                {
                    "type": "TagCustomer",
                    "customer_id": customer.customer_id,
                    "tags": rng.sample(texts.TAGS, rng.randint(1, 3)),
                    "occurred_at": sim.stamp(tagged),
                },
            )
        self.add_contact(customer, t + rng.randint(1, 30))
        return customer

    def add_contact(self, customer: Customer, t: int) -> None:
        sim, rng = self._sim, self._sim.rng
        contact_id = sim.new_id("ct")
        title = rng.choice(texts.TITLES)
        command: Command = {
            "type": "AddContact",
            "customer_id": customer.customer_id,
            "contact_id": contact_id,
            "name": texts.person_name(rng),
            "title": title,
        }
        if rng.random() < 0.7:
            command["phone"] = f"+86 1{rng.randint(30, 89)}{rng.randrange(10**8):08d}"
        command["occurred_at"] = sim.stamp(t)
        if sim.emit(t, command):
            customer.contacts[contact_id] = (t, title)

    def touch_contacts(self, customer: Customer, t: int) -> None:
        """During a deal: a new contact shows up, someone changes title, or someone leaves."""
        sim, rng = self._sim, self._sim.rng
        t = office_hours(t, rng)
        present = [
            cid for cid, (last, _) in customer.contacts.items() if last < t and cid not in customer.departed
        ]
        if not present or rng.random() < 0.4:
            self.add_contact(customer, t)
            return
        contact_id = rng.choice(present)
        title = customer.contacts[contact_id][1]
        command: Command = {"type": "UpdateContact", "contact_id": contact_id}
        if rng.random() < 0.3:
            command["left_company"] = True
            customer.departed.add(contact_id)
        else:
            title = rng.choice([other for other in texts.TITLES if other != title])
            command["title"] = title
        command["occurred_at"] = sim.stamp(t)
        if sim.emit(t, command):
            customer.contacts[contact_id] = (t, title)

    def record_nps(self, customer: Customer, t: int) -> None:
        t = office_hours(t, self._sim.rng)
        self._sim.emit(
            t,
            {
                "type": "RecordNps",
                "customer_id": customer.customer_id,
                "score": self._sim.rng.choice(_SCORES),
                "occurred_at": self._sim.stamp(t),
            },
        )

    def complain(self, customer: Customer, t: int) -> None:
        t = office_hours(t, self._sim.rng)
        self._sim.emit(
            t,
            {
                "type": "LogComplaint",
                "customer_id": customer.customer_id,
                "occurred_at": self._sim.stamp(t),
                "note": self._sim.rng.choice(texts.COMPLAINTS),
            },
        )
