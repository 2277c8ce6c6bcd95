"""An event's own fields as canonical JSON, read straight from the bytes the store holds.

The audit chain hashes every event's fields (`audit_trail.encoded_payload` of the decoded event). A
rebuild of the chain needs nothing else from the event, and decoding it — the library's JSON decoder
with its object hook, then building the event object — costs several times what the hash does. Here
the stored JSON is read by orjson (`stored_json.read_object`) and the library's transcoded values
(`{"_type_", "_data_"}`) are spelled as `json_text.plain` spells the decoded ones, so the bytes are the
very ones the decoded event gives (tests check this on whole simulated histories and on arbitrary
values).

Whatever this does not know how to read the same way — an unknown transcoding, JSON orjson refuses or
would read otherwise (integers beyond 64 bits), an event stored by an older version of its class
(upcast on decoding) — is answered with None, and the caller decodes the event as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from projections import json_text
from projections.stored_json import Unreadable, read_object

# What the store's transcoder decodes each name to, as `plain` then spells it.
_SPELLED: dict[str, Callable[[str], str]] = {
    "datetime_iso": lambda data: datetime.fromisoformat(data).isoformat(),
    "date_iso": lambda data: date.fromisoformat(data).isoformat(),
    "decimal_str": lambda data: str(Decimal(data)),
    "uuid_hex": lambda data: str(UUID(data)),
}
# Kept in the stored state by the library, never among the event's own fields once decoded.
_NOT_FIELDS = ("timestamp", "originator_topic", "class_version")


@cache
def event_topic(stored_topic: str) -> tuple[str, int]:
    """The topic the decoded event's class answers to (`read_model.topic_of`), which a renamed class
    registered under its old topic changes; and the class version events are upcast to."""
    cls = resolve_topic(stored_topic)
    return f"{cls.__module__}:{cls.__qualname__}", int(getattr(cls, "class_version", 1))


@cache
def _own_fields(stored_topic: str) -> Callable[[dict[str, Any]], None]:
    """Drops from the stored state, before its values are read, what is not among the event's own
    fields; refuses the state of an event that decoding would upcast."""
    class_version = event_topic(stored_topic)[1]

    def drop(fields: dict[str, Any]) -> None:
        if fields.get("class_version", 1) != class_version:
            raise Unreadable("upcast on decoding")
        for name in _NOT_FIELDS:
            fields.pop(name, None)

    return drop


def stored_fields(stored_topic: str, state: bytes) -> dict[str, Any] | None:
    """The event's own fields (no originator id, version, topic or timestamp), as `plain` makes them
    from the decoded event; None when only decoding can tell."""
    try:
        return read_object(state, _SPELLED, _own_fields(stored_topic))
    except Exception:  # whatever it is, decoding the event will say it properly
        return None


def encoded_stored_payload(stored_topic: str, state: bytes) -> tuple[bytes, dict[str, Any]] | None:
    """`audit_trail.encoded_payload` of the event these bytes decode to, with the fields it encodes."""
    fields = stored_fields(stored_topic, state)
    if fields is None:
        return None
    return json_text.dumps_bytes(fields), fields
