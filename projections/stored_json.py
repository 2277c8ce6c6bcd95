"""A stored event's JSON state read by orjson, every value as the library's JSON transcoder would read it.

The library's transcoder (`eventsourcing.persistence.JSONTranscoder`) parses with Python's json and an
object hook that turns each `{"_type_": name, "_data_": data}` object into `transcoding.decode(data)`,
innermost first. orjson parses the same bytes several times faster; walking what it made and applying
the same transcodings bottom-up gives the same values. Where orjson would not read the bytes the same
way, or the walk could not tell, `Unreadable` is raised and the caller reads them the library's way:

- an integer beyond 64 bits, which orjson reads as a float where Python's json keeps it exact: when a
  float is read, a number of 19 digits or more in the bytes (`LONG_NUMBER`) is enough to give up;
- a transcoded object whose data is not a string (every transcoding the store registers writes one),
  or whose name is not in the transcodings given (a KeyError);
- JSON that orjson refuses (NaN, Infinity, lone surrogates) raises orjson's own error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

# A transcoded value's name, and the function that makes its value from its data string.
Transcodings = Mapping[str, Callable[[str], Any]]

LONG_NUMBER = re.compile(rb"[:,\[]\s*-?[0-9]{19}")


class Unreadable(Exception):
    """Something not read here the way the library's decoder reads it."""


class FloatRead(Exception):
    """A float was read: maybe an integer orjson could not hold."""


def is_transcoded(value: dict[str, Any]) -> bool:
    """Whether the library's object hook would replace this object by a transcoding's value."""
    return len(value) == 2 and "_type_" in value and "_data_" in value


def _object(value: dict[str, Any], transcodings: Transcodings, floats: bool) -> Any:
    if is_transcoded(value):
        raise Unreadable(f"data of type {type(value['_data_']).__name__}")
    transcode_in_place(value, transcodings, floats)
    return value


def transcode_in_place(fields: dict[str, Any], transcodings: Transcodings, floats: bool) -> None:
    """Every value of an object orjson read, as the library's object hook leaves it (the object itself
    is not looked at). With `floats` false, a float raises FloatRead."""
    _in_place(fields, fields.items(), transcodings, floats)


def _in_place(
    container: dict[str, Any] | list[Any],
    items: Iterable[tuple[Any, Any]],
    transcodings: Transcodings,
    floats: bool,
) -> None:
    # Values are replaced where they stand (no key added or removed), so what orjson made is reused.
    # Most values are scalars or transcoded strings: those are dealt with here, without a call.
    for key, value in items:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and type(data := value.get("_data_")) is str and "_type_" in value:
                container[key] = transcodings[value["_type_"]](data)
            else:
                container[key] = _object(value, transcodings, floats)
        elif kind is list:
            _in_place(value, enumerate(value), transcodings, floats)
        elif kind is float and not floats:
            raise FloatRead


def read_object(state: bytes, transcodings: Transcodings, floats: bool = False) -> dict[str, Any]:
    """The JSON object in `state` as the library's transcoder decodes it."""
    fields = orjson.loads(state)
    # The hook sees the outermost object too: as a transcoded value it would not be an event's state.
    if type(fields) is not dict or (len(fields) == 2 and is_transcoded(fields)):
        raise Unreadable("not a JSON object of fields")
    try:
        transcode_in_place(fields, transcodings, floats)
    except FloatRead:
        if LONG_NUMBER.search(state):
            raise Unreadable("a number that may be an integer beyond 64 bits") from None
        # Floats are rare in events: read once more (some values are transcoded already), keeping them.
        return read_object(state, transcodings, floats=True)
    object_: dict[str, Any] = fields
    return object_
