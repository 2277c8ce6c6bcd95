"""`EventDecoder.decode` gives what the library's mapper gives — the same class, the same `__dict__`
keys in the same order, values equal and of the same types all the way down — or raises the mapper's
error: on arbitrary values written by the store's own transcoder (every transcoding it registers,
nested, integers beyond 64 bits, floats, NaN, text), on objects that only look transcoded, on events
the mapper upcasts, and with mappers it must leave to themselves (a compressor, a cipher, a transcoder
that decodes otherwise). Ordinary events are decoded without the mapper."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import Environment, get_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.event_decoder import EventDecoder
from adapters.read_ahead import StoredRow
from commands.store import EventStore, StoreTranscoder

STORE = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
MAPPER: Mapper[Any] = STORE.mapper
TRANSCODER = MAPPER.transcoder
DEAL_OPENED = "domain.deal:Deal.Opened"


class TextIdentified:
    """An event class whose originator id stays text (the mapper converts nothing)."""

    originator_id: str
    originator_version: int


class Visit:
    """An event class at version 2: version 1 states are upcast by the mapper."""

    originator_id: UUID
    originator_version: int
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["minutes"] = 0


class FractionAsText(Transcoding):
    type = Fraction
    name = "fraction_str"

    def encode(self, obj: Fraction) -> str:
        return str(obj)

    def decode(self, data: str) -> Fraction:
        return Fraction(data)


class ComplexAsPair(Transcoding):
    """Data that is not a string: left to the mapper."""

    type = complex
    name = "complex_pair"

    def encode(self, obj: complex) -> list[float]:
        return [obj.real, obj.imag]

    def decode(self, data: list[float]) -> complex:
        return complex(*data)


class CountingMapper:
    """The decoder's fallback, counted."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.calls = 0

    def to_domain_event(self, stored: Any) -> Any:
        self.calls += 1
        return self.mapper.to_domain_event(stored)


def counted(decoder: EventDecoder) -> CountingMapper:
    counting = CountingMapper(decoder.mapper)
    decoder.mapper = counting  # type: ignore[assignment]
    return counting


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type all the way down; floats and decimals to the last digit (NaN too),
    datetimes with the same offset, dict keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | Decimal | datetime):
        return repr(a) == repr(b)
    return bool(a == b)


def outcome(decode: Any, stored: Any) -> tuple[Any, ...]:
    try:
        event = decode(stored)
    except Exception as error:
        return ("raised", type(error), str(error))
    return ("decoded", type(event), vars(event))


def assert_decodes_as_the_mapper(decoder: EventDecoder, mapper: Any, stored: Any) -> None:
    expected, got = outcome(mapper.to_domain_event, stored), outcome(decoder.decode, stored)
    assert expected[:2] == got[:2], (expected, got)
    if expected[0] == "raised":
        assert expected[2] == got[2]
    else:
        assert same(expected[2], got[2]), (expected[2], got[2])


def stored_as(topic: str, state: bytes, text_id: bool = True) -> StoredEvent | StoredRow:
    """As folds read it: a row with the id as text (PostgreSQL) or a library record with a UUID."""
    originator = uuid4()
    if text_id:
        return StoredRow(7, str(originator), 3, topic, state)
    return StoredEvent(originator, 3, topic, state)


_offsets = st.builds(
    timezone,
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)),
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**18, -(10**19)])
    | st.floats()
    | st.text()
    | st.sampled_from([":1234567890123456789", "[-12345678901234567890", "{", "_type_"])
    | st.decimals()
    | st.datetimes(timezones=st.none() | _offsets)
    | st.dates()
    | st.uuids()
)
_names = st.sampled_from(["datetime_iso", "date_iso", "decimal_str", "uuid_hex", "pickled"])


def _values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(max_size=6) | st.sampled_from(["_type_", "_data_"]), inner, max_size=4)
            # Plain data that only looks like a transcoded value: the library's hook reads it as one.
            | st.fixed_dictionaries({"_type_": _names | inner, "_data_": inner})
        ),
        max_leaves=12,
    )


_fields = st.dictionaries(
    st.text(min_size=1, max_size=10)
    | st.sampled_from(["class_version", "originator_id", "originator_version"]),
    _values(_scalars),
    max_size=6,
)


@settings(max_examples=500, deadline=None)
@given(fields=_fields, text_id=st.booleans())
def test_arbitrary_stored_values_decode_as_the_mapper_decodes_them(
    fields: dict[str, Any], text_id: bool
) -> None:
    state = TRANSCODER.encode({"timestamp": datetime(2026, 3, 1, tzinfo=UTC), **fields})
    assert_decodes_as_the_mapper(EventDecoder(MAPPER), MAPPER, stored_as(DEAL_OPENED, state, text_id))


@settings(max_examples=200, deadline=None)
@given(
    fields=st.dictionaries(
        st.text(min_size=1, max_size=6),
        _values(_scalars | st.fractions() | st.complex_numbers(allow_nan=False)),
        max_size=4,
    ),
    text_id=st.booleans(),
)
def test_every_registered_transcoding_is_applied_as_the_mapper_applies_it(
    fields: dict[str, Any], text_id: bool
) -> None:
    transcoder = StoreTranscoder()
    for transcoding in [*TRANSCODER.names.values(), FractionAsText(), ComplexAsPair()]:  # type: ignore[attr-defined]
        transcoder.register(transcoding)
    mapper: Mapper[Any] = Mapper(transcoder)
    state = transcoder.encode(fields)
    for topic in (DEAL_OPENED, get_topic(TextIdentified)):
        assert_decodes_as_the_mapper(EventDecoder(mapper), mapper, stored_as(topic, state, text_id))


def test_ordinary_events_are_decoded_without_the_mapper() -> None:
    decoder = EventDecoder(MAPPER)
    fallback = counted(decoder)
    states = [
        {"deal_id": "d-1", "amount": Decimal("43000.50"), "on": date(2026, 1, 2), "ref": uuid4()},
        {"splits": [{"rep_id": "r-1", "share": Decimal("0.6")}], "hours": 1.5, "n": 10**17},
        {"n": 2**64 - 1, "m": -(2**63)},
        {"v": [0.0, -2.5e-300, 1e300]},
        {"nested": {"a": [[1, 2], {"b": None}]}, "class_version": 1, "text": "价格 {1234567890}"},
    ]
    for fields in states:
        state = TRANSCODER.encode({"timestamp": datetime(2026, 3, 1, 9, tzinfo=UTC), **fields})
        for text_id in (True, False):
            assert_decodes_as_the_mapper(decoder, MAPPER, stored_as(DEAL_OPENED, state, text_id))
    text_state = TRANSCODER.encode({"name": "x"})
    assert_decodes_as_the_mapper(decoder, MAPPER, stored_as(get_topic(TextIdentified), text_state))
    assert fallback.calls == 0


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (b'{"n":%d}' % 2**64, "orjson reads it as a float"),
        (b'{"n":-%d,"f":1.5}' % (2**63 + 1), "a float read, and a long number"),
        (b'{"f":NaN}', "orjson refuses NaN"),
        (b'{"f":-Infinity}', "orjson refuses infinities"),
        (b'{"s":"\\ud800"}', "a lone surrogate"),
        (b'{"x":{"_type_":"pickled","_data_":"..."}}', "a transcoding not registered"),
        (b'{"x":{"_type_":"decimal_str","_data_":"abc"}}', "a transcoding that fails"),
        (b'{"x":{"_type_":"decimal_str","_data_":5}}', "data that is not text"),
        (b'{"_type_":"decimal_str","_data_":"1"}', "the state itself transcoded"),
        (b'{"class_version":0}', "upcast from version 0"),
        (b'{"class_version":"2"}', "a version that is not a number"),
        (b"[1,2]", "not an object"),
        (b'{"a":1', "not JSON"),
        (b"\xff{}", "not UTF-8"),
    ],
)
def test_what_only_the_mapper_reads_the_same_way_is_left_to_it(state: bytes, why: str) -> None:
    decoder = EventDecoder(MAPPER)
    fallback = counted(decoder)
    for text_id in (True, False):
        assert_decodes_as_the_mapper(decoder, MAPPER, stored_as(DEAL_OPENED, state, text_id))
    assert fallback.calls == 2, why


def test_an_event_the_mapper_cannot_decode_raises_the_mappers_error() -> None:
    stored = stored_as(DEAL_OPENED, b'{"x":{"_type_":"decimal_str","_data_":"abc"}}')
    with pytest.raises(MapperDeserialisationError, match="Failed to deserialise state of stored event"):
        EventDecoder(MAPPER).decode(stored)


def test_events_of_an_older_class_version_are_upcast_by_the_mapper() -> None:
    decoder = EventDecoder(MAPPER)
    fallback = counted(decoder)
    topic = get_topic(Visit)
    old = stored_as(topic, TRANSCODER.encode({"place": "Wuhan"}))
    assert_decodes_as_the_mapper(decoder, MAPPER, old)
    assert decoder.decode(old).__dict__["minutes"] == 0  # type: ignore[attr-defined]
    for version in (2, 3):
        current = stored_as(
            topic, TRANSCODER.encode({"place": "Wuhan", "minutes": 5, "class_version": version})
        )
        assert_decodes_as_the_mapper(decoder, MAPPER, current)
    assert fallback.calls == 2, "the version 1 state only (decoded twice above)"


class RenamingCompressor(Compressor):
    """Leaves the stored bytes JSON, but not the JSON the mapper decodes."""

    def compress(self, data: bytes) -> bytes:
        return data

    def decompress(self, data: bytes) -> bytes:
        return data.replace(b"r-001", b"r-002")


class RenamingCipher(Cipher):
    def __init__(self, environment: Environment | None = None) -> None:
        self.environment = environment

    def encrypt(self, plaintext: bytes) -> bytes:
        return plaintext

    def decrypt(self, ciphertext: bytes) -> bytes:
        return ciphertext.replace(b"r-001", b"r-002")


class ShoutingTranscoder(StoreTranscoder):
    def decode(self, data: bytes) -> Any:
        decoded = super().decode(data)
        decoded["rep_id"] = decoded["rep_id"].upper()
        return decoded


@pytest.mark.parametrize(
    "mapper",
    [
        Mapper(TRANSCODER, compressor=RenamingCompressor()),
        Mapper(TRANSCODER, cipher=RenamingCipher()),
        Mapper(ShoutingTranscoder()),
    ],
    ids=["compressor", "cipher", "transcoder"],
)
def test_a_mapper_that_reads_bytes_otherwise_decodes_every_event_itself(mapper: Mapper[Any]) -> None:
    if isinstance(mapper.transcoder, ShoutingTranscoder):
        STORE.register_transcodings(mapper.transcoder)
    state = TRANSCODER.encode({"rep_id": "r-001", "amount": Decimal("1.5")})
    decoder = EventDecoder(mapper)
    assert_decodes_as_the_mapper(decoder, mapper, stored_as(DEAL_OPENED, state))
    assert decoder.decode(stored_as(DEAL_OPENED, state)).__dict__["rep_id"] in ("r-002", "R-001")  # type: ignore[attr-defined]


def test_the_same_checks_catch_a_difference() -> None:
    """`same` is strict where `==` is not: the property above means what it says."""
    assert not same(1, 1.0)
    assert not same(1, True)
    assert not same(Decimal("1.0"), Decimal("1"))
    assert not same(
        datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not same(0.0, -0.0)
    assert same(math.nan, math.nan)
    assert same(Decimal("NaN"), Decimal("NaN"))
