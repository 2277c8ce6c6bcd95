"""Runs read models: each folds the store's notification log in batches and saves every batch with its
tracking position in one transaction; an event a fold cannot take is retried, then parked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

import structlog
from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.catch_up_pipeline import Progress
from adapters.catch_up_pipeline import catch_up as pipelined_catch_up
from adapters.doc_view import DocView, Parked, PostgresDocView, SQLiteDocView, encode
from adapters.event_decoder import EventDecoder
from adapters.read_ahead import Stored, read_batch
from commands.store import EventStore
from domain.ids import event_id
from projections import json_text
from projections.read_model import DocChange, ReadModel, StaleReadModel, final_documents

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 3
# A notification with its event, decoded once for every projection that folds it (None: not decoded,
# or decoding failed; the projection decodes it itself, and retries, and parks it as it would alone).
Shared = tuple[Stored, object | None]


def open_doc_view(store: EventStore) -> DocView:
    if isinstance(store.recorder, PostgresApplicationRecorder):
        return cast("PostgresDocView", store.factory.tracking_recorder(PostgresDocView))
    return cast("SQLiteDocView", store.factory.tracking_recorder(SQLiteDocView))


def checksum(rows: list[tuple[str, str, str, str, str]]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows):
        digest.update(json.dumps(row, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _row(change: DocChange) -> tuple[str, str, str, str, str]:
    return (change.kind, change.key, change.part, change.sort, json_text.dumps(change.doc))


def _canonical(row: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    # Documents saved by an earlier version may be spelled differently (spaces): same JSON, same sum.
    kind, key, part, sort, doc = row
    return (kind, key, part, sort, json_text.dumps(json_text.loads(doc)))


def saved_status(store: EventStore, view: DocView, name: str, position: int | None = None) -> dict[str, Any]:
    """A read model's position, lag and parked events, from what it saved (no need to load it)."""
    head = store.recorder.max_notification_id() or 0
    position = view.position(name) if position is None else position
    return {
        "projection": name,
        "position": position,
        "head": head,
        "lag": head - position,
        "parked": [
            {"position": p, "event_id": e, "topic": t, "error": err, "attempts": a}
            for p, e, t, err, a in view.parked(name)
        ],
    }


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        view: DocView,
        factory: Callable[[], ReadModel],
        batch_size: int = 1000,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.store = store
        self.view = view
        self.factory = factory
        self.batch_size = batch_size
        self.decoder = EventDecoder(store.mapper)
        # What the runner needs to know of its read model before loading it.
        blank = factory()
        self.name = blank.name
        self._topics = blank.topics
        # Whether the read model folds the events as stored (`Stored`), not decoded.
        self._folds_stored = bool(getattr(blank, "folds_stored", False))
        # The saved read model is loaded when first asked for: a rebuild drops it unread (loading every
        # saved customer, subject and funnel stay of a 1,006,478-event history took 2.4 s of a rebuild's
        # start).
        self._model: ReadModel | None = None
        self._position = 0
        # Set when a catch-up failed: what it folded but did not save is lost, so the next one reloads.
        self.stale = False

    @property
    def model(self) -> ReadModel:
        return self._model if self._model is not None else self._load()

    @model.setter
    def model(self, model: ReadModel) -> None:
        self._model = model

    @property
    def position(self) -> int:
        if self._model is None:
            self._load()
        return self._position

    @position.setter
    def position(self, position: int) -> None:
        self._position = position

    def reload(self) -> None:
        self._load()

    def _load(self) -> ReadModel:
        model = self.factory()
        try:
            for kind, key, doc in self.view.state(self.name, model.state_kinds):
                model.load(kind, key, doc)
        except StaleReadModel as stale:
            # Saved by an earlier version in a form this one does not read: fold it again from the store.
            log.warning("projection.rebuilding_stale", projection=self.name, reason=str(stale))
            self.view.reset(self.name)
            model = self.factory()
        self._model = model
        self._position = self.view.position(self.name)
        self.stale = False
        return model

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def read(self, start: int, head: int) -> Sequence[Stored]:
        return read_batch(self.store, start, head, self.batch_size, self._topics)

    def _fold_batch(self, head: int) -> tuple[int, list[Parked]]:
        notifications = self.read(self.position, head)
        parked = self._fold([(notification, None) for notification in notifications])
        position = notifications[-1].id if len(notifications) == self.batch_size else head
        return position, parked

    def _fold(self, items: Sequence[Shared]) -> list[Parked]:
        parked: list[Parked] = []
        as_stored = self._folds_stored
        for notification, decoded in items:
            error = self._apply(notification, None if as_stored else decoded, as_stored)
            if error is not None:
                eid = event_id(notification.originator_id, notification.originator_version)  # type: ignore[arg-type]
                parked.append((notification.id, eid, notification.topic, error, MAX_ATTEMPTS))
                log.error(
                    "projection.event_parked",
                    projection=self.name,
                    position=notification.id,
                    topic=notification.topic,
                    error=error,
                )
        return parked

    def _apply(self, notification: Stored, decoded: object | None, as_stored: bool) -> str | None:
        """Folds one event: as stored for a read model that folds stored events, else decoded here
        unless it comes decoded. A failure is retried, decoding again with the library's mapper (which
        says why it fails, where the first attempt decodes faster)."""
        error = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if as_stored:
                    self.model.apply(notification, notification.id)
                    return None
                if decoded is None and attempt == 1:
                    decoded = self.decoder.decode(notification)
                elif decoded is None:
                    decoded = self.store.mapper.to_domain_event(cast("Notification", notification))
                self.model.apply(decoded, notification.id)
            except Exception as failure:  # a read model must not stop on one bad event
                decoded = None
                error = f"{type(failure).__name__}: {failure}"
                log.warning("projection.event_failed", projection=self.name, attempt=attempt, error=error)
            else:
                return None
        return error

    @property
    def topics(self) -> tuple[str, ...]:
        return self._topics

    @property
    def decodes(self) -> bool:
        """Whether it needs the events decoded (a group decodes a batch once for all who do)."""
        return not self._folds_stored

    def fold_shared(self, items: Sequence[Shared], end: int) -> Callable[[], None]:
        """Folds the events of a batch read (and decoded) once for several projections: those of its
        topics after its position. Returns the write of what it folded, up to `end`, to run next."""
        wanted, after = frozenset(self._topics), self.position
        if items and items[0][0].id > after:
            # The whole batch is after its position (a projection behind the others is the exception):
            # only the topics are looked at, or nothing, for a read model of every event.
            mine = [item for item in items if item[0].topic in wanted] if wanted else items
        else:
            mine = [item for item in items if item[0].id > after and (not wanted or item[0].topic in wanted)]
        parked = self._fold(mine)
        batch = encode(self.model.take_changes())
        self.position = end
        return partial(self.view.write, self.name, batch, parked, end)

    def reset(self) -> None:
        """Drops the saved read model and starts from an empty one."""
        self.view.reset(self.name)
        self.reload()

    def catch_up(
        self, *, save: bool = True, on_progress: Progress | None = None, max_batches: int | None = None
    ) -> int:
        return pipelined_catch_up(self, save, on_progress, max_batches)

    def fold(self, notifications: Sequence[Stored], position: int, save: bool) -> Callable[[], None] | None:
        parked = self._fold([(notification, None) for notification in notifications])
        if not save:
            return None
        return partial(self.view.write, self.name, encode(self.model.take_changes()), parked, position)

    def rebuild(self, on_progress: Progress | None = None) -> int:
        self.reset()
        return self.catch_up(on_progress=on_progress)

    def status(self) -> dict[str, Any]:
        return saved_status(self.store, self.view, self.name, self.position)

    def verify(self) -> dict[str, Any]:
        """Folds the whole history into a fresh read model in memory and compares checksums with
        the saved one, caught up to the same head."""
        self.catch_up()
        model, self.model = self.model, self.factory()
        position, self.position = self.position, 0
        changes: list[DocChange] = []
        try:
            while self.position < position:
                self.position, _ = self._fold_batch(position)
                changes.extend(self.model.take_changes())
        finally:
            self.model, self.position = model, position
        replayed = checksum([_row(change) for change in final_documents(changes).values()])
        saved = checksum([_canonical(row) for row in self.view.everything(self.name)])
        return {"projection": self.name, "position": position, "saved": saved, "replayed": replayed}
