# A full-width question mark in Chinese text is the point of one value here.
# ruff: noqa: RUF001

"""The audit chain's encoding: orjson's canonical JSON must be byte for byte the standard library's
(sorted keys, no spaces, UTF-8 kept), and the fast link hash must equal the documented one."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from projections import json_text
from projections.audit_trail import GENESIS, SEGMENT, AuditTrail, chain, encoded_payload, link, payload
from projections.json_text import plain

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


class Recorded:
    """Stands in for a decoded domain event: the audit trail reads its attributes only."""

    originator_id: UUID
    originator_version: int

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


Recorded.__module__ = "domain.deal"
Recorded.__qualname__ = "Deal.NoteAdded"


def _event(version: int, **fields: Any) -> Recorded:
    return Recorded(
        originator_id=UUID("00000000-0000-4000-8000-000000000001"),
        originator_version=version,
        timestamp=datetime(2026, 3, 1, 9, 30, tzinfo=UTC) + timedelta(seconds=version),
        **fields,
    )


def _reference(previous: str, position: int, eid: str, topic: str, body: dict[str, Any]) -> str:
    """The link as documented, made with the standard library from `plain` values."""
    canonical = json.dumps(
        [position, eid, topic, body], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(f"{previous}{canonical}".encode()).hexdigest()


def test_each_link_chains_the_one_before_with_the_documented_hash() -> None:
    events = [
        _event(
            1,
            deal_id="d-1",
            rep_id="r-7",
            occurred_at=datetime(2026, 3, 1, 17, 0, tzinfo=timezone(timedelta(hours=8))),
            amount=Decimal("1200.50"),
            due=date(2026, 4, 1),
            note='客户问价格？ "quoted"\n',
            ids={uuid4(), uuid4()},
        ),
        _event(2, deal_id="d-1", rep_id=None, approved_by="m-1", shares=(Decimal("0.5"), Decimal("0.5"))),
        _event(3, deal_id="d-1", note="next segment"),
    ]
    trail = AuditTrail()
    previous, hashes = GENESIS, []
    positions = (3, 9, SEGMENT + 4)
    for position, event in zip(positions, events, strict=True):
        trail.apply(event, position)
        body = {
            k: plain(v)
            for k, v in sorted(vars(event).items())
            if k not in {"originator_id", "originator_version", "timestamp"}
        }
        assert payload(event) == body
        eid = f"{event.originator_id}:{event.originator_version}"
        expected = _reference(previous, position, eid, "domain.deal:Deal.NoteAdded", body)
        assert chain(previous, position, eid, "domain.deal:Deal.NoteAdded", body) == expected
        assert trail.head == (position, expected)
        previous = expected
        hashes.append(expected)
    saved = {(c.kind, c.key): c.doc for c in trail.take_changes()}
    # Positions in segments of SEGMENT; the head carries the open one.
    assert saved[("links", f"{0:012d}")] == {"positions": [3, 9], "hashes": hashes[:2]}
    assert saved[("links", f"{1:012d}")] == {"positions": [SEGMENT + 4], "hashes": hashes[2:]}
    assert saved[("chain", "head")] == {
        "position": SEGMENT + 4,
        "hash": hashes[2],
        "segment": 1,
        "positions": [SEGMENT + 4],
        "hashes": hashes[2:],
    }
    # The first event of an aggregate that is not its creation names no subject: "aggregate".
    subject = saved[("subject", str(events[0].originator_id))]
    assert subject == {"kind": "aggregate", "key": str(events[0].originator_id)}

    # A fold restarted from what was saved goes on filling the open segment.
    again = AuditTrail()
    for (kind, key), doc in saved.items():
        if kind in again.state_kinds and doc is not None:
            again.load(kind, key, doc)
    again.apply(_event(4, deal_id="d-1"), SEGMENT + 7)
    reloaded = {(c.kind, c.key): c.doc for c in again.take_changes()}
    assert reloaded[("links", f"{1:012d}")]["positions"] == [SEGMENT + 4, SEGMENT + 7]  # type: ignore[index]


def test_an_integer_beyond_64_bits_hashes_exactly_as_the_standard_library_spells_it() -> None:
    event = _event(1, deal_id="d-1", counter=2**70)
    trail = AuditTrail()
    trail.apply(event, 1)
    eid = f"{event.originator_id}:1"
    body = {"counter": 2**70, "deal_id": "d-1"}
    expected = _reference(GENESIS, 1, eid, "domain.deal:Deal.NoteAdded", body)
    assert trail.head == (1, expected)
    assert link(GENESIS, 1, eid, "domain.deal:Deal.NoteAdded", encoded_payload(event)) == expected
