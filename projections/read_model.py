"""What every read model is to its runner: a fold of events into documents.

A read model keeps the state its fold needs in memory (the document kinds it names in
`state_kinds`, loaded back when a process starts) and hands the runner the documents each batch
changed. Documents carry a partition and a sort key, so queries such as "this customer's orders
by date" are answered by an index on the read model alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

Document = dict[str, Any]


# A named tuple, not a frozen dataclass: a fold makes one per document it touches, and a dataclass
# costs several times as much to build.
class DocChange(NamedTuple):
    kind: str
    key: str
    # None deletes the document.
    doc: Document | None
    part: str = ""
    sort: str = ""


class StaleReadModel(Exception):
    """Raised by `load` for documents an earlier version of the read model saved in a form this one does
    not read: the read model is rebuilt from the store instead."""


class ReadModel(Protocol):
    name: str
    # Topics of the events the fold reads; empty means every event.
    topics: tuple[str, ...]
    # Document kinds the fold reads back when it starts (everything else it only writes).
    state_kinds: tuple[str, ...]

    # `apply` is handed each event decoded; a read model that says `folds_stored = True` is handed the
    # notification as stored instead (`adapters.read_ahead.Stored`: id, originator id and version,
    # topic, state bytes).
    def apply(self, event: Any, position: int) -> None: ...

    def take_changes(self) -> list[DocChange]: ...

    def load(self, kind: str, key: str, doc: Document) -> None: ...


@dataclass
class Changes:
    """Documents changed since the last take, last write wins; a read model's write buffer."""

    pending: dict[tuple[str, str], DocChange] = field(default_factory=dict)

    def put(self, kind: str, key: str, doc: Document, part: str = "", sort: str = "") -> None:
        self.pending[(kind, key)] = DocChange(kind, key, doc, part, sort)

    def delete(self, kind: str, key: str) -> None:
        self.pending[(kind, key)] = DocChange(kind, key, None)

    def take(self) -> list[DocChange]:
        changes = list(self.pending.values())
        self.pending = {}
        return changes


def instant_key(moment: datetime) -> str:
    """A sort key that orders instants whatever zone they were written in: UTC, fixed width."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:
        # The only years strftime may not pad as `isoformat` does.
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # `isoformat` costs less than half of strftime; it leaves out a zero microsecond.
    text = utc.isoformat()
    return f"{text[:26]}Z" if utc.microsecond else f"{text[:19]}.000000Z"


def topic_of(event: object) -> str:
    cls = type(event)
    return f"{cls.__module__}:{cls.__qualname__}"


def final_documents(changes: Iterable[DocChange]) -> dict[tuple[str, str], DocChange]:
    """The documents a sequence of changes leaves behind (deletes remove)."""
    final: dict[tuple[str, str], DocChange] = {}
    for change in changes:
        if change.doc is None:
            final.pop((change.kind, change.key), None)
        else:
            final[(change.kind, change.key)] = change
    return final
