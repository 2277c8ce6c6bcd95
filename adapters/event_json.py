"""What a stored event or a ledger line looks like on Kafka: topic, key, JSON value and headers.

The value of an event is its fields as JSON, after the base fields `originator_id`,
`originator_version` and `timestamp`: decimals as strings (never floats: these are amounts),
datetimes as ISO 8601 with their offset, dates as ISO dates, UUIDs in their hyphenated form.
It is built straight from the stored JSON state, each transcoded value replaced by its plain
JSON form, which costs a fraction of decoding the event into an object and encoding it again;
event classes that upcast older stored versions (`class_version` > 1) go through the domain
event, so their value is always in the current shape. deploy/schemas/ has the JSON Schema of
every value (adapters/event_schemas.py).

Headers: `event_id` (the stable "aggregate-uuid:version", for consumers that deduplicate),
`event_type` ("Deal.Opened"), `schema_version` and `store_position` (the notification id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, Notification
from eventsourcing.utils import get_topic

from adapters.kafka_topics import AGGREGATE_TOPICS, TopicConfig
from domain.pay_history import Line
from projections.pay_facts import PAY_TOPICS
from replay.payroll import line_document

BASE_FIELDS = ("originator_id", "originator_version", "timestamp")
# Library bookkeeping kept in the stored state, not part of what the event says.
INTERNAL_FIELDS = frozenset({"originator_topic", "class_version"})
LEDGER_LINE_TYPE = "LedgerLine"
LEDGER_LINE_SCHEMA_VERSION = 1

Headers = list[tuple[str, bytes]]
Record = tuple[str, bytes, bytes, Headers]


class UnpublishableEvent(ValueError):
    """A stored event whose state holds a value this module has no JSON form for."""


def event_classes() -> dict[type[Aggregate.Event], str]:
    """Every event class that is published, with the short name of its topic."""
    found: dict[type[Aggregate.Event], str] = {}
    for aggregate, short in AGGREGATE_TOPICS.items():
        for name, attribute in vars(aggregate).items():
            # `Event` and `Created` are the library's bases; every aggregate here names its own.
            if name in ("Event", "Created") or not isinstance(attribute, type):
                continue
            if issubclass(attribute, Aggregate.Event):
                found[attribute] = short
    return found


def event_type(cls: type) -> str:
    return cls.__qualname__


def schema_version(cls: type) -> int:
    return int(getattr(cls, "class_version", 1))


# Each transcoding the store registers (eventsourcing's defaults and commands.store.DateAsISO),
# as the JSON value it stands for.
_PLAIN: dict[str, Callable[[Any], Any]] = {
    "decimal_str": str,
    "datetime_iso": str,
    "date_iso": str,
    "uuid_hex": lambda data: str(UUID(data)),
}


def _plain(obj: dict[str, Any]) -> Any:
    if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
        try:
            return _PLAIN[obj["_type_"]](obj["_data_"])
        except KeyError:
            raise UnpublishableEvent(f"no JSON form for stored values of type {obj['_type_']!r}") from None
    return obj


def _json_default(value: object) -> object:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise UnpublishableEvent(f"no JSON form for {type(value).__name__} values")


_decoder = json.JSONDecoder(object_hook=_plain)
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def encode(document: dict[str, Any]) -> bytes:
    return _encoder.encode(document).encode("utf-8")


# The store writes its JSON with no spaces and every non-string value as {"_type_": …, "_data_": …}:
# decimals, datetimes and dates carry their JSON form as the data string, so the published value
# is the stored text with those wrappers cut away and the base fields put in front. Quotes inside
# JSON strings are escaped, so these byte sequences only ever match the structure, never text.
_WRAPPER = b'{"_type_":"'
# Splitting on the wrapper keeps the captured data string and drops the rest: joined back, the
# text has each decimal, datetime and date in its plain JSON form.
_PLAIN_WRAPPER = re.compile(rb'\{"_type_":"(?:decimal_str|datetime_iso|date_iso)","_data_":("[^"\\]*")\}')
_HEAD = re.compile(rb'\{"timestamp":("[^"\\]*")(?:,"originator_topic":"[^"\\]*")?')


def _unwrapped(state: bytes) -> bytes | None:
    """The stored text with each decimal, datetime and date wrapper replaced by its data string;
    None when it holds any other wrapper (a UUID, say)."""
    text = b"".join(_PLAIN_WRAPPER.split(state))
    return None if _WRAPPER in text else text


def value_from_state(originator_id: str, originator_version: int, state: bytes) -> bytes:
    """The published value of a stored event, by rewriting its stored JSON text; falls back to
    decoding it (`document_from_state`) for anything else."""
    text = _unwrapped(state)
    head = None if text is None else _HEAD.match(text)
    if text is None or head is None:
        return encode(document_from_state(originator_id, originator_version, state))
    return b"".join(
        (
            b'{"originator_id":"',
            originator_id.encode(),
            b'","originator_version":',
            str(originator_version).encode(),
            b',"timestamp":',
            head.group(1),
            text[head.end() :],
        )
    )


def document_from_state(originator_id: str, originator_version: int, state: bytes) -> dict[str, Any]:
    """The published document of a stored event, from its stored JSON state."""
    fields = _decoder.decode(state.decode("utf-8"))
    document: dict[str, Any] = {
        "originator_id": originator_id,
        "originator_version": originator_version,
        "timestamp": fields["timestamp"],
    }
    for name, value in fields.items():
        if name not in INTERNAL_FIELDS and name != "timestamp":
            document[name] = value
    return document


def document_from_event(event: Any) -> dict[str, Any]:
    """The published document of a domain event object: the same JSON as `document_from_state`."""
    fields = vars(event)
    document: dict[str, Any] = {
        "originator_id": str(event.originator_id),
        "originator_version": event.originator_version,
        "timestamp": event.timestamp.isoformat(),
    }
    for name, value in fields.items():
        if name not in INTERNAL_FIELDS and name not in BASE_FIELDS:
            document[name] = value
    # One pass through the encoder turns every Decimal, datetime, date and UUID into its JSON form.
    plain: dict[str, Any] = json.loads(encode(document))
    return plain


@dataclass(frozen=True, slots=True)
class Route:
    """Where one stored event type goes and the constant part of its headers."""

    topic: str
    # Whole header entries, shared by every record of the type.
    event_type: tuple[str, bytes]
    schema_version: tuple[str, bytes]
    pay: bool
    # Values built from the stored state unless the class upcasts older stored versions.
    from_state: bool


class EventCodec:
    """Turns notifications and ledger lines into Kafka records for the topics of one prefix."""

    def __init__(self, topics: TopicConfig, mapper: Mapper[UUID]) -> None:
        self.topics = topics
        self.mapper = mapper
        self.routes: dict[str, Route] = {}
        for cls, short in event_classes().items():
            stored = get_topic(cls)
            self.routes[stored] = Route(
                topic=topics.name(short),
                event_type=("event_type", event_type(cls).encode()),
                schema_version=("schema_version", str(schema_version(cls)).encode()),
                pay=stored in PAY_TOPICS,
                from_state=schema_version(cls) == 1,
            )
        self._line_type = ("event_type", LEDGER_LINE_TYPE.encode())
        self._line_version = ("schema_version", str(LEDGER_LINE_SCHEMA_VERSION).encode())

    @property
    def stored_topics(self) -> list[str]:
        """The store topics of every published event type: what the relay selects."""
        return sorted(self.routes)

    def route(self, notification: Notification) -> Route:
        return self.routes[notification.topic]

    def event_record(self, notification: Notification, route: Route) -> Record:
        originator_id = str(notification.originator_id)
        version = notification.originator_version
        if route.from_state:
            value = value_from_state(originator_id, version, self._state(notification))
        else:
            value = encode(document_from_event(self.mapper.to_domain_event(notification)))
        headers = [
            # domain.ids.event_id's form, from the id already turned into text.
            ("event_id", f"{originator_id}:{version}".encode()),
            route.event_type,
            route.schema_version,
            ("store_position", str(notification.id).encode()),
        ]
        return route.topic, originator_id.encode(), value, headers

    def line_records(self, lines: list[Line], closed_by: str, position: int) -> Iterator[Record]:
        """The frozen lines of a period, as published when the `PeriodClosed` event `closed_by` is."""
        for number, line in enumerate(lines):
            headers = [
                ("event_id", f"{closed_by}#{number}".encode()),
                self._line_type,
                self._line_version,
                ("store_position", str(position).encode()),
            ]
            yield self.topics.ledger_lines, line.rep_id.encode(), encode(line_value(line)), headers

    def _state(self, notification: Notification) -> bytes:
        state = notification.state
        if self.mapper.cipher is not None:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor is not None:
            state = self.mapper.compressor.decompress(state)
        return state


def line_value(line: Line) -> dict[str, Any]:
    """A ledger line as published: the payroll JSON of the line plus the period it is posted in."""
    return {"period": line.period, **line_document(line)}
