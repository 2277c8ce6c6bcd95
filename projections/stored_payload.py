"""An event's own fields as canonical JSON, read straight from the bytes the store holds.

The audit chain hashes every event's fields (`audit_trail.encoded_payload` of the decoded event). A
rebuild of the chain needs nothing else from the event, and decoding it — the library's JSON decoder
with its object hook, then building the event object — costs several times what the hash does. Here
the stored JSON is parsed by orjson and the library's transcoded values (`{"_type_", "_data_"}`) are
spelled as `json_text.plain` spells the decoded ones, so the bytes are the very ones the decoded event
gives (tests check this on whole simulated histories and on arbitrary values).

Whatever this does not know how to read the same way — an unknown transcoding, JSON orjson refuses
(integers beyond 64 bits, which it
would read as floats), an event stored by an older version of its class (upcast on decoding) — is
answered with None, and the caller decodes the event as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from projections import json_text

# What the store's transcoder decodes each name to, as `plain` then spells it.
_SPELLED: dict[str, Callable[[str], str]] = {
    "datetime_iso": lambda data: datetime.fromisoformat(data).isoformat(),
    "date_iso": lambda data: date.fromisoformat(data).isoformat(),
    "decimal_str": lambda data: str(Decimal(data)),
    "uuid_hex": lambda data: str(UUID(data)),
}
# orjson reads an integer beyond 64 bits as a float, where the library's decoder keeps it exact: when
# a float is read, a number of 19 digits or more in the bytes leaves the event to decoding.
_LONG_NUMBER = re.compile(rb"[:,\[]\s*-?[0-9]{19}")
# Kept in the stored state by the library, never among the event's own fields once decoded.
_NOT_FIELDS = ("timestamp", "originator_topic", "class_version")
_SCALARS = frozenset({str, int, bool, type(None)})


class _Unreadable(Exception):
    """Something this module does not read the way the library's decoder does."""


class _FloatRead(Exception):
    """A float was read: maybe an integer orjson could not hold."""


def _spelled(value: dict[str, Any], floats: bool) -> Any:
    """A JSON object as the library's object hook would leave it, then as `plain` spells that."""
    if len(value) == 2 and "_type_" in value and "_data_" in value:
        spell = _SPELLED.get(value["_type_"])
        data = value["_data_"]
        if spell is None or type(data) is not str:
            raise _Unreadable(value["_type_"])
        return spell(data)
    _in_place(value, floats)
    return value


def _in_place(fields: dict[str, Any], floats: bool) -> None:
    # Values replaced under their own keys (never added or removed): the dict orjson made is reused.
    for key, value in fields.items():
        kind = type(value)
        if kind in _SCALARS:
            continue
        if kind is dict:
            fields[key] = _spelled(value, floats)
        elif kind is list:
            fields[key] = _listed(value, floats)
        elif kind is not float:
            raise _Unreadable(kind.__name__)
        elif not floats:
            raise _FloatRead


def _listed(values: list[Any], floats: bool) -> list[Any]:
    out = []
    for value in values:
        kind = type(value)
        if kind in _SCALARS:
            out.append(value)
        elif kind is dict:
            out.append(_spelled(value, floats))
        elif kind is list:
            out.append(_listed(value, floats))
        elif kind is not float:
            raise _Unreadable(kind.__name__)
        elif floats:
            out.append(value)
        else:
            raise _FloatRead
    return out


@cache
def event_topic(stored_topic: str) -> tuple[str, int]:
    """The topic the decoded event's class answers to (`read_model.topic_of`), which a renamed class
    registered under its old topic changes; and the class version events are upcast to."""
    cls = resolve_topic(stored_topic)
    return f"{cls.__module__}:{cls.__qualname__}", int(getattr(cls, "class_version", 1))


def stored_fields(stored_topic: str, state: bytes) -> dict[str, Any] | None:
    """The event's own fields (no originator id, version, topic or timestamp), as `plain` makes them
    from the decoded event; None when only decoding can tell."""
    try:
        return _fields(stored_topic, state, floats=False)
    except _FloatRead:
        if _LONG_NUMBER.search(state):
            return None
        # Floats are rare in events: read once more, this time keeping them.
        return _fields(stored_topic, state, floats=True)


def _fields(stored_topic: str, state: bytes, floats: bool) -> dict[str, Any] | None:
    try:
        fields = orjson.loads(state)
        if type(fields) is not dict or fields.get("class_version", 1) != event_topic(stored_topic)[1]:
            return None
        for name in _NOT_FIELDS:
            fields.pop(name, None)
        _in_place(fields, floats)
    except _FloatRead:
        raise
    except Exception:  # whatever it is, decoding the event will say it properly
        return None
    plain: dict[str, Any] = fields
    return plain


def encoded_stored_payload(stored_topic: str, state: bytes) -> tuple[bytes, dict[str, Any]] | None:
    """`audit_trail.encoded_payload` of the event these bytes decode to, with the fields it encodes."""
    fields = stored_fields(stored_topic, state)
    if fields is None:
        return None
    return json_text.dumps_bytes(fields), fields
