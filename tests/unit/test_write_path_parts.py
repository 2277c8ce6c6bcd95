"""The write path's cheaper parts record exactly what the library's own would."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from uuid import uuid4

from eventsourcing.persistence import JSONTranscoder

from commands.json_codec import compiled_encoder
from commands.parsing import fingerprint, parse_command
from commands.store import EventStore, StoreTranscoder
from commands.unit_of_work import SharedAggregates
from domain.customer import Customer
from domain.receipt import CommandReceipt, receipt_event


class Colour(StrEnum):
    RED = "red"


def fields(event: object) -> dict[str, object]:
    return {k: v for k, v in vars(event).items() if k != "timestamp"}


def test_a_receipt_built_directly_is_the_event_the_aggregate_records() -> None:
    for error in (None, "quotation: needs a demo report"):
        [recorded] = CommandReceipt("c-1", "MoveStage", "ab" * 32, error).collect_events()
        built = receipt_event("c-1", "MoveStage", "ab" * 32, error)
        assert type(built) is type(recorded)
        assert fields(built) == fields(recorded)
        assert built.timestamp.tzinfo is not None
        receipt = built.mutate(None)
        assert isinstance(receipt, CommandReceipt)
        assert (receipt.id, receipt.version) == (CommandReceipt.create_id("c-1"), 1)
        assert (receipt.command_type, receipt.fingerprint, receipt.error) == ("MoveStage", "ab" * 32, error)


def test_the_store_transcoder_writes_the_libraries_bytes_and_reads_them_back() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ours = store.mapper.transcoder
    assert isinstance(ours, StoreTranscoder)
    library = JSONTranscoder()
    store.register_transcodings(library)
    state = {
        "timestamp": datetime(2026, 3, 1, 9, 30, 15, 120, tzinfo=UTC),
        "occurred_at": datetime(2026, 3, 1, 17, tzinfo=timezone(timedelta(hours=8))),
        "signed_on": date(2026, 2, 28),
        "amount": Decimal("1234.50"),
        "ref": uuid4(),
        "name": "张伟 — Zürich",
        "stage": Colour.RED,
        "splits": [{"rep_id": "r-1", "share": Decimal("0.5")}, {"rep_id": "r-2", "share": 0.5}],
        "left_company": None,
        "won": True,
        "count": 3,
    }
    encoded = ours.encode(state)
    assert encoded == library.encode(state)
    assert ours.decode(encoded) == library.decode(encoded) == {**state, "stage": "red"}


def test_a_shared_aggregate_is_held_by_one_command_at_a_time_and_older_ones_never_win() -> None:
    shared = SharedAggregates(maxsize=10)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    customer = Customer("c-1", "Acme", "retail", "CN-E", when)
    customer.collect_events()
    shared.offer(customer)
    mine = shared.take(customer.id)
    assert mine is customer
    assert shared.take(customer.id) is None  # nobody else gets it while it is taken
    customer.tag(["vip"], when)
    customer.collect_events()
    shared.offer(customer)
    older = Customer("c-1", "Acme", "retail", "CN-E", when)
    shared.offer(older)  # an older copy, offered late
    assert shared.take(customer.id) is customer

    shared.offer(customer)
    shared.offer_absent(customer.id)  # known to exist: not forgotten for an absence
    assert not shared.known_absent(customer.id)
    elsewhere = uuid4()
    shared.offer_absent(elsewhere)
    assert shared.known_absent(elsewhere)
    shared.clear()
    assert shared.take(customer.id) is None and not shared.known_absent(elsewhere)


def test_fingerprints_stay_those_stored_receipts_were_written_with() -> None:
    command = parse_command(
        {
            "type": "RegisterCustomer",
            "customer_id": "c-1",
            "name": "张伟 Zürich \\u2028",
            "industry": "retail",
            "region": "CN-E",
            "occurred_at": "2026-01-05T10:00:00+08:00",
            "command_id": "k-1",
        }
    )
    payload = command.model_dump(mode="json", exclude={"command_id"}, by_alias=True)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    assert fingerprint(command) == hashlib.sha256(canonical.encode()).hexdigest()
    nested = {"b": [1, 2.5, None, True], "a": {"z": "é", "y": float("inf")}}
    assert compiled_encoder(sort_keys=True)(nested) == json.dumps(
        nested, sort_keys=True, separators=(",", ":")
    )
