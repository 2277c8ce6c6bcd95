from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EventStore(Application[Any]):
    """The salesledger event store; SQLite or PostgreSQL is chosen by the environment it is given."""

    name = "salesledger"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
