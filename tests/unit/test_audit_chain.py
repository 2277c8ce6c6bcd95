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
from projections.audit_trail import GENESIS, AuditTrail, chain, encoded_payload, link, payload
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


def test_each_entry_links_to_the_one_before_with_the_documented_hash() -> None:
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
    ]
    trail = AuditTrail()
    previous = GENESIS
    for position, event in zip((3, 9), events, strict=True):
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
        saved = trail.changes.pending[("entry", f"{position:012d}")].doc
        assert saved is not None
        entry = saved
        assert (entry["hash"], entry["previous_hash"], entry["changes"]) == (expected, previous, body)
        previous = expected
    assert entry["actor"] == "m-1"
    head = {c.key: c.doc for c in trail.take_changes() if c.kind == "chain"}
    assert head == {"head": {"position": 9, "hash": previous}}


def test_an_integer_beyond_64_bits_hashes_exactly_as_the_standard_library_spells_it() -> None:
    event = _event(1, deal_id="d-1", counter=2**70)
    trail = AuditTrail()
    trail.apply(event, 1)
    entry = trail.changes.pending[("entry", f"{1:012d}")].doc
    assert entry is not None
    eid = f"{event.originator_id}:1"
    body = {"counter": 2**70, "deal_id": "d-1"}
    expected = _reference(GENESIS, 1, eid, "domain.deal:Deal.NoteAdded", body)
    assert entry["hash"] == expected
    assert link(GENESIS, 1, eid, "domain.deal:Deal.NoteAdded", encoded_payload(event)) == expected
