"""Runs read models: each folds the store's notification log in batches and saves every batch with its
tracking position in one transaction; an event a fold cannot take is retried, then parked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import structlog
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.doc_view import DocView, Encoded, Parked, PostgresDocView, SQLiteDocView, encode
from commands.store import EventStore
from domain.ids import event_id
from projections.read_model import DocChange, ReadModel, final_documents

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 3
Progress = Callable[[int, int], None]


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
    doc = json.dumps(change.doc, sort_keys=True, ensure_ascii=False)
    return (change.kind, change.key, change.part, change.sort, doc)


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
        self.model = factory()
        self.name = self.model.name
        self.position = 0
        # Set when a catch-up failed: what it folded but did not save is lost, so the next one reloads.
        self.stale = False
        self.reload()

    def reload(self) -> None:
        model = self.factory()
        for kind, key, doc in self.view.state(self.name, model.state_kinds):
            model.load(kind, key, doc)
        self.model = model
        self.position = self.view.position(self.name)
        self.stale = False

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def _fold_batch(self, head: int) -> tuple[int, list[Parked]]:
        notifications = self.store.recorder.select_notifications(
            start=self.position,
            limit=self.batch_size,
            stop=head,
            topics=self.model.topics,
            inclusive_of_start=False,
        )
        parked: list[Parked] = []
        for notification in notifications:
            error = self._apply(notification)
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
        position = notifications[-1].id if len(notifications) == self.batch_size else head
        return position, parked

    def _apply(self, notification: Any) -> str | None:
        error = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self.model.apply(self.store.mapper.to_domain_event(notification), notification.id)
            except Exception as failure:  # a read model must not stop on one bad event
                error = f"{type(failure).__name__}: {failure}"
                log.warning("projection.event_failed", projection=self.name, attempt=attempt, error=error)
            else:
                return None
        return error

    def catch_up(
        self, *, save: bool = True, on_progress: Progress | None = None, max_batches: int | None = None
    ) -> int:
        # A batch is written by another thread while the next one folds: the database's work and the
        # commit overlap with the fold's. Its documents are encoded first (the fold goes on changing
        # them); the next batch is handed over only once the one before is saved.
        if self.stale:
            self.reload()
        head = self.head()
        batches = 0
        writing: Future[int] | None = None
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-save") as writer:
                while True:
                    more = self.position < head and (max_batches is None or batches < max_batches)
                    if more:
                        batches += 1
                        position, parked = self._fold_batch(head)
                        batch = encode(self.model.take_changes()) if save else None
                    if writing is not None:
                        written, writing = writing, None
                        if not self._saved(written, head, on_progress):
                            continue  # state reloaded: what was just folded is folded again from there
                    if not more:
                        return self.position
                    if batch is not None:
                        writing = writer.submit(self._write, batch, parked, position)
                    elif on_progress is not None:
                        on_progress(position, head)
                    self.position = position
        except BaseException:
            self.stale = True
            raise

    def _write(self, batch: Encoded, parked: list[Parked], position: int) -> int:
        self.view.write(self.name, batch, parked, position)
        return position

    def _saved(self, writing: Future[int], head: int, on_progress: Progress | None) -> bool:
        """Waits for the batch being written; False if another process had tracked that far already,
        in which case the saved state is loaded and the fold goes on from there."""
        try:
            position = writing.result()
        except IntegrityError:
            self.reload()
            return False
        if on_progress is not None:
            on_progress(position, head)
        return True

    def rebuild(self, on_progress: Progress | None = None) -> int:
        self.view.reset(self.name)
        self.reload()
        return self.catch_up(on_progress=on_progress)

    def status(self) -> dict[str, Any]:
        head = self.head()
        parked = self.view.parked(self.name)
        return {
            "projection": self.name,
            "position": self.position,
            "head": head,
            "lag": head - self.position,
            "parked": [
                {"position": p, "event_id": e, "topic": t, "error": err, "attempts": a}
                for p, e, t, err, a in parked
            ],
        }

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
        saved = checksum(self.view.everything(self.name))
        return {"projection": self.name, "position": position, "saved": saved, "replayed": replayed}
