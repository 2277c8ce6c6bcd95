from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoder, Transcoding

from commands.json_codec import compiled_encoder


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class StoreTranscoder(JSONTranscoder):
    """The library's JSON transcoder, writing the very same bytes with an encoder built once.

    A bulk import encodes hundreds of thousands of small events. Decoding is the library's own,
    so everything stored before reads back as it did.
    """

    def __init__(self) -> None:
        super().__init__()
        self._encode_text = compiled_encoder(default=self._encode_obj, ensure_ascii=False)

    def encode(self, obj: Any) -> bytes:
        return self._encode_text(obj).encode("utf8")


class EventStore(Application[Any]):
    """The salesledger event store; SQLite or PostgreSQL is chosen by the environment it is given."""

    name = "salesledger"

    def construct_transcoder(self) -> Transcoder:
        transcoder = StoreTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
