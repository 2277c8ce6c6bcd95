"""What row-level access needs to know, read from the event store: a rep's team, a deal's people."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from commands.store import EventStore
from domain.deal import Deal
from domain.rep import Rep

# The only deal events that change who the deal belongs to; every other one is skipped undecoded.
OPENED, REASSIGNED, SPLIT = (
    f"domain.deal:Deal.{name}" for name in ("Opened", "Reassigned", "CreditSplitSet")
)


@dataclass(frozen=True)
class DealPeople:
    owner_rep_id: str
    customer_id: str
    credited: frozenset[str]
    version: int = 0

    @property
    def reps(self) -> frozenset[str]:
        """The owner and every rep credited in the deal's split: the reps whose deal it is."""
        return self.credited | {self.owner_rep_id}


def _credited(splits: list[dict[str, Any]] | None) -> frozenset[str]:
    return frozenset(str(share["rep_id"]) for share in splits or ())


class Directory:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        # A rep's team is fixed by its Onboarded event, so a team once found never goes stale.
        self._teams: dict[str, str] = {}
        # Per deal, its people as of a version: each lookup reads only the events recorded since.
        self._deals: dict[str, DealPeople] = {}
        self._lock = threading.Lock()

    def team_of(self, rep_id: str) -> str | None:
        with self._lock:
            known = self._teams.get(rep_id)
        if known is not None:
            return known
        try:
            rep: Any = self.store.repository.get(Rep.create_id(rep_id))
        except AggregateNotFoundError:
            return None
        if not isinstance(rep, Rep):
            return None
        with self._lock:
            self._teams[rep_id] = rep.team
        return rep.team

    def deal(self, deal_id: str) -> DealPeople | None:
        """The deal's owner and credited reps as the store holds them now (owners change)."""
        with self._lock:
            people = self._deals.get(deal_id)
        since = people.version if people is not None else 0
        for stored in self.store.recorder.select_events(Deal.create_id(deal_id), gt=since):
            if stored.topic in (OPENED, REASSIGNED, SPLIT):
                event: Any = self.store.mapper.to_domain_event(stored)
                if stored.topic == OPENED:
                    people = DealPeople(event.owner_rep_id, event.customer_id, _credited(event.splits))
                elif people is not None and stored.topic == REASSIGNED:
                    people = replace(people, owner_rep_id=event.owner_rep_id)
                elif people is not None:
                    people = replace(people, credited=_credited(event.splits))
            if people is not None:
                people = replace(people, version=stored.originator_version)
        if people is None:
            return None
        with self._lock:
            known = self._deals.get(deal_id)
            if known is None or known.version < people.version:
                self._deals[deal_id] = people
        return people
