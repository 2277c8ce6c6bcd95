"""Recomputes the audit trail's hash chain from the stored events and compares it with the chain the
audit read model recorded: the first position that differs is where the history was altered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.audit_entries import RecordedLinks
from adapters.doc_view import DocView
from commands.store import EventStore
from projections.audit_trail import GENESIS, link

BATCH = 2000


@dataclass(frozen=True)
class ChainCheck:
    checked: int
    first_difference: int | None
    detail: str

    @property
    def intact(self) -> bool:
        return self.first_difference is None


def verify_chain(
    store: EventStore, view: DocView, on_progress: Callable[[int, int], None] | None = None
) -> ChainCheck:
    head = view.position("audit")
    links = RecordedLinks(view)
    previous, position, checked = GENESIS, 0, 0
    while position < head:
        notifications = store.recorder.select_notifications(
            start=position, limit=BATCH, stop=head, inclusive_of_start=False
        )
        if not notifications:
            break
        for notification in notifications:
            recorded = links.at(notification.id)
            if recorded is None:
                return ChainCheck(checked, notification.id, "no audit link recorded for this position")
            eid = f"{notification.originator_id}:{notification.originator_version}"
            digest = link(previous, notification.id, eid, notification.topic, notification.state)
            if digest != recorded:
                return ChainCheck(
                    checked,
                    notification.id,
                    f"hash {digest[:16]}… recomputed from the store, {recorded[:16]}… recorded",
                )
            previous, checked = digest, checked + 1
        position = notifications[-1].id
        if on_progress is not None:
            on_progress(position, head)
    return ChainCheck(checked, None, f"{checked} events chained, head {previous[:16]}…")
