"""Stored events decoded for the folds: the very objects `store.mapper.to_domain_event` makes, faster.

The library's mapper parses the stored JSON with Python's json and an object hook, then builds the
event. Here orjson parses it and the store's own transcodings are applied bottom-up, as the hook
would (`projections.stored_json`); the originator id is converted and the event built as the mapper
does. A rebuild decodes every event it folds: measured on 204,239 events, 1.2 s of CPU with the
mapper, 0.85 s here; on the 90,530 the customer 360 folds, 0.6 s and 0.36 s.

Whenever the result could differ, the mapper decodes the event: a cipher or compressor, a transcoder
that does not decode the library's way, JSON orjson refuses or may read otherwise (an integer beyond
64 bits), a transcoding that is not registered or fails, an event stored by an older version of its
class (the mapper upcasts it). A bad event so ends up raising the mapper's own error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
    find_id_convertor,
    str_to_uuid_convertor,
)
from eventsourcing.utils import resolve_topic

from adapters.read_ahead import Stored
from commands.store import DateAsISO
from projections.stored_json import Transcodings, Unreadable, read_object

# What the `decode` of these transcodings comes to, given a string (all `read_object` gives them):
# called directly, a method call and its check are saved on each of the two or three values of an event.
_DECODES: dict[type[Transcoding], Callable[[str], Any]] = {
    DatetimeAsISO: datetime.fromisoformat,
    DecimalAsStr: Decimal,
    UUIDAsHex: UUID,
    DateAsISO: date.fromisoformat,
}


def _json_transcodings(mapper: Mapper[Any]) -> Transcodings | None:
    """The transcoder's transcodings when the mapper decodes stored state with nothing but the
    library's JSON decoder and object hook (as the store's does), else None."""
    transcoder = mapper.transcoder
    if (
        type(mapper).to_domain_event is not Mapper.to_domain_event
        or mapper.cipher is not None
        or mapper.compressor is not None
        or not isinstance(transcoder, JSONTranscoder)
        or type(transcoder).decode is not JSONTranscoder.decode
        or type(transcoder)._decode_obj is not JSONTranscoder._decode_obj
    ):
        return None
    decoder = transcoder.decoder
    if (
        type(decoder) is not json.JSONDecoder
        or decoder.object_hook != transcoder._decode_obj
        or decoder.object_pairs_hook is not None
        or decoder.parse_float is not float
        or decoder.parse_int is not int
        or not decoder.strict
    ):
        return None
    return {name: _DECODES.get(type(t), t.decode) for name, t in transcoder.names.items()}


class _EventClass(NamedTuple):
    cls: type[Any]
    class_version: int
    # Whether an originator id read as text is made a UUID (`find_id_convertor`).
    uuid_from_text: bool


# Originator ids made UUIDs, kept for the next event of the same aggregate (the events a fold takes
# come from some 16,000 aggregates per 100,000 events): a UUID from text costs about a microsecond, and
# a UUID cannot be changed, so events may share one. One store of them for every decoder in the process,
# forgotten all at once when it holds this many (some 7 MB).
_KEPT_IDS = 1 << 15
_uuids: dict[str, UUID] = {}


def _uuid(text: str) -> UUID:
    if len(_uuids) >= _KEPT_IDS:
        _uuids.clear()
    uuid = _uuids[text] = cast("UUID", str_to_uuid_convertor(text))
    return uuid


class EventDecoder:
    """`decode(stored)` is `mapper.to_domain_event(stored)`: the same class, the same `__dict__`."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self._transcodings = _json_transcodings(mapper)
        self._classes: dict[str, _EventClass] = {}

    def decode(self, stored: Stored) -> DomainEventProtocol[Any]:
        transcodings = self._transcodings
        if transcodings is not None and type(stored.state) is bytes:
            try:
                return self._decoded(stored, transcodings)
            except Exception:  # the mapper decodes it, or raises its own error
                pass
        return self.mapper.to_domain_event(cast("StoredEvent", stored))

    def _decoded(self, stored: Stored, transcodings: Transcodings) -> DomainEventProtocol[Any]:
        # Step for step what Mapper.to_domain_event does once transcoder.decode has read the state.
        topic = stored.topic
        cls, class_version, uuid_from_text = self._classes.get(topic) or self._event_class(topic)
        event_state = read_object(stored.state, transcodings)
        originator_id = stored.originator_id
        if uuid_from_text and type(originator_id) is str:
            event_state["originator_id"] = _uuids.get(originator_id) or _uuid(originator_id)
        else:
            convert = find_id_convertor(cast("Hashable", cls), cast("Hashable", type(originator_id)))
            event_state["originator_id"] = convert(originator_id)
        event_state["originator_version"] = stored.originator_version
        from_version = event_state.pop("class_version", 1)
        if type(from_version) is not int or from_version < class_version:
            raise Unreadable("stored by an older version of its class: the mapper upcasts it")
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return cast("DomainEventProtocol[Any]", event)

    def _event_class(self, topic: str) -> _EventClass:
        cls = resolve_topic(topic)
        convert = find_id_convertor(cls, str)
        found = _EventClass(cls, getattr(cls, "class_version", 1), convert is str_to_uuid_convertor)
        self._classes[topic] = found
        return found
