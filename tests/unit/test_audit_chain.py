# A full-width question mark in Chinese text is the point of one value here.
# ruff: noqa: RUF001

"""The audit chain's encoding: orjson's canonical JSON must be byte for byte the standard library's
(sorted keys, no spaces, UTF-8 kept), and a link must hash what is stored as documented."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections import json_text
from projections.audit_trail import GENESIS, SEGMENT, AuditTrail, encoded_payload, link, payload
from projections.read_model import StaleReadModel

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_the_standard_librarys(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert json_text.dumps(value) == expected


@given(st.integers(min_value=2**64) | st.integers(max_value=-(2**63) - 1))
def test_integers_orjson_refuses_are_spelled_by_the_standard_library(value: int) -> None:
    assert json_text.dumps({"n": value}) == json.dumps({"n": value}, separators=(",", ":"))


class Stored(NamedTuple):
    """A notification as the audit trail folds it: the row as stored."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


DEAL = "00000000-0000-4000-8000-000000000001"
# A topic no class answers to, with what JSON escapes in it: chained all the same.
ODD_TOPIC = 'tests.gone:Ünï "quoted"\tthing'


def _reference(previous: str, position: int, eid: str, topic: str, state: bytes) -> str:
    """The link as documented, made with the standard library."""
    header = json.dumps([position, eid, topic], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(previous.encode() + header.encode() + state).hexdigest()


def test_each_link_chains_the_one_before_with_the_documented_hash() -> None:
    rows = [
        Stored(3, DEAL, 1, "domain.deal:Deal.Opened", '{"deal_id":"d-1","note":"客户问价格？"}'.encode()),
        Stored(9, DEAL, 2, ODD_TOPIC, b"\x00\xff not even JSON"),
        Stored(SEGMENT + 4, DEAL, 3, "domain.deal:Deal.Won", b'{"timestamp":"edited?"}'),
    ]
    trail = AuditTrail()
    previous, hashes = GENESIS, []
    for row in rows:
        trail.apply(row, row.id)
        eid = f"{row.originator_id}:{row.originator_version}"
        expected = _reference(previous, row.id, eid, row.topic, row.state)
        assert link(previous, row.id, eid, row.topic, row.state) == expected
        assert trail.head == (row.id, expected)
        previous = expected
        hashes.append(expected)
    saved = {(c.kind, c.key): c.doc for c in trail.take_changes()}
    # Positions in segments of SEGMENT; the head carries the open one.
    assert saved[("links", f"{0:012d}")] == {"positions": [3, 9], "hashes": hashes[:2]}
    assert saved[("links", f"{1:012d}")] == {"positions": [SEGMENT + 4], "hashes": hashes[2:]}
    assert saved[("chain", "head")] == {
        "layout": 3,
        "position": SEGMENT + 4,
        "hash": hashes[2],
        "segment": 1,
        "positions": [SEGMENT + 4],
        "hashes": hashes[2:],
    }
    # Nothing else: a subject's aggregate id follows from the subject's own.
    assert {kind for kind, _ in saved} == {"links", "chain"}

    # A fold restarted from what was saved goes on filling the open segment.
    again = AuditTrail()
    for (kind, key), doc in saved.items():
        if kind in again.state_kinds and doc is not None:
            again.load(kind, key, doc)
    again.apply(Stored(SEGMENT + 7, DEAL, 4, "domain.deal:Deal.Lost", b"{}"), SEGMENT + 7)
    reloaded = {(c.kind, c.key): c.doc for c in again.take_changes()}
    assert reloaded[("links", f"{1:012d}")]["positions"] == [SEGMENT + 4, SEGMENT + 7]  # type: ignore[index]


def test_every_stored_byte_counts() -> None:
    row = Stored(1, DEAL, 1, "domain.deal:Deal.Won", b'{"timestamp":{"_type_":"datetime_iso","_data_":"x"}}')
    base = link(GENESIS, 1, f"{DEAL}:1", row.topic, row.state)
    assert link(GENESIS, 1, f"{DEAL}:1", row.topic, row.state + b" ") != base
    assert link(GENESIS, 1, f"{DEAL}:1", row.topic, row.state.replace(b"x", b"y")) != base
    assert link(GENESIS, 1, f"{DEAL}:2", row.topic, row.state) != base
    assert link(GENESIS, 2, f"{DEAL}:1", row.topic, row.state) != base
    assert link(GENESIS, 1, f"{DEAL}:1", "domain.deal:Deal.Lost", row.state) != base
    assert link("1" * 64, 1, f"{DEAL}:1", row.topic, row.state) != base


# What a database column holds: text without lone surrogates.
_stored_text = st.text(st.characters(exclude_categories=["Cs"]))


@given(_stored_text, _stored_text, st.integers(min_value=0, max_value=2**63 - 1), st.binary())
def test_the_header_is_the_standard_librarys_json(eid: str, topic: str, position: int, state: bytes) -> None:
    assert link(GENESIS, position, eid, topic, state) == _reference(GENESIS, position, eid, topic, state)


def test_a_chain_of_an_earlier_layout_is_folded_again() -> None:
    trail = AuditTrail()
    with pytest.raises(StaleReadModel):
        trail.load("chain", "head", {"layout": 2, "position": 4, "hash": "a" * 64, "segment": 0,
                                     "positions": [4], "hashes": ["a" * 64]})  # fmt: skip


def test_an_audit_entry_shows_the_events_own_fields() -> None:
    class Recorded:
        def __init__(self, **fields: Any) -> None:
            self.__dict__.update(fields)

    event = Recorded(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime(2026, 3, 1, 9, 30, tzinfo=UTC) + timedelta(seconds=1),
        deal_id="d-1",
        occurred_at=datetime(2026, 3, 1, 17, 0, tzinfo=timezone(timedelta(hours=8))),
        amount=Decimal("1200.50"),
        due=date(2026, 4, 1),
        counter=2**70,
    )
    assert payload(event) == {
        "amount": "1200.50",
        "counter": 2**70,
        "deal_id": "d-1",
        "due": "2026-04-01",
        "occurred_at": "2026-03-01T17:00:00+08:00",
    }
    assert encoded_payload(event).startswith(b'{"amount":"1200.50","counter":1180591620717411303424,')
