"""Customer 360 on both stores: profile, contacts with title changes and departures, tags, deals, orders
first or repeat (an earlier order recorded late turns the first into a repeat), NPS, complaints and
action tags from transcripts — answered by one read of the customer and one indexed read of its orders,
none for a customer without orders; a rebuild gives the same documents."""

# Chinese text is punctuated with full-width marks on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from adapters.customer_360_model import customer_360 as customer_360_model
from adapters.customer_query import customer_360, suggest_tags
from adapters.doc_view import SORT_END, DocView
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.settings import Settings
from commands.executor import Executor
from commands.store import EventStore
from domain.text_tags import TagRules, TextTagger
from projections.customer_360 import CUSTOMER_360, Customer360, customer_part
from projections.read_model import DocChange
from tests.builders import Cmd, at, book, given, open_deal, org, token
from tests.cli import salesledger

TRANSCRIPT = (
    "客户：这个价格太贵了，友商报价低不少。\n"
    "Customer: the CFO is the decision maker; we plan a new plant next year.\n"
    "客户：预算批了吗？还不确定。"
)


class CountingView:
    """A DocView that counts the queries made through it."""

    def __init__(self, view: DocView) -> None:
        self.view = view
        self.calls: list[tuple[str, str]] = []

    def get(self, projection: str, kind: str, key: str) -> Any:
        self.calls.append(("get", kind))
        return self.view.get(projection, kind, key)

    def part(self, projection: str, kind: str, part: str, since: str = "", until: str = SORT_END) -> Any:
        self.calls.append(("part", kind))
        return self.view.part(projection, kind, part, since, until)

    def kind(self, projection: str, kind: str) -> Any:
        self.calls.append(("kind", kind))
        return self.view.kind(projection, kind)


def customer(t: str, name: str, industry: str, region: str, suffix: str) -> Cmd:
    return {
        "type": "RegisterCustomer",
        "customer_id": f"{suffix}-{t}",
        "name": name,
        "industry": industry,
        "region": region,
        "occurred_at": at(1),
    }


def history(t: str) -> list[Cmd]:
    c = f"c-{t}"
    return [
        *org(t),
        customer(t, "Quiet Ltd", "energy", "CN-N", "quiet"),
        customer(t, "Twin Retail", "retail", "CN-E", "twin"),
        {"type": "TagCustomer", "customer_id": f"twin-{t}", "tags": ["strategic", "expanding"],
         "occurred_at": at(1)},
        {"type": "TagCustomer", "customer_id": c, "tags": ["strategic", "multi_site"], "occurred_at": at(2)},
        {"type": "AddContact", "customer_id": c, "contact_id": f"k1-{t}", "name": "王芳", "title": "采购经理",
         "occurred_at": at(2)},
        {"type": "AddContact", "customer_id": c, "contact_id": f"k2-{t}", "name": "Tom Lee", "title": "CTO",
         "phone": "+86 21 5555 0101", "occurred_at": at(2)},
        {"type": "UpdateContact", "contact_id": f"k1-{t}", "title": "CIO", "occurred_at": at(10)},
        {"type": "UpdateContact", "contact_id": f"k2-{t}", "left_company": True, "occurred_at": at(12)},
        open_deal(t, day=2),
        open_deal(t, deal="d2", day=3),
        open_deal(t, deal="d3", day=3),
        {"type": "LogActivity", "deal_id": f"d-{t}", "rep_id": f"smb-{t}", "kind": "call",
         "occurred_at": at(4), "note": "first call", "transcript": TRANSCRIPT},
        {"type": "LogActivity", "deal_id": f"d2-{t}", "rep_id": f"smb-{t}", "kind": "demo",
         "occurred_at": at(5, 15)},
        book(t, amount="1000", margin="300", day=10, order="oB"),
        {**book(t, amount="500", margin="100", day=20, order="oC"), "deal_id": f"d2-{t}"},
        {"type": "CancelOrder", "order_id": f"oC-{t}", "reason": "scope_change", "occurred_at": at(25)},
        {"type": "LoseDeal", "deal_id": f"d3-{t}", "reason": "price", "occurred_at": at(6)},
        {"type": "RecordNps", "customer_id": c, "score": 9, "occurred_at": at(15)},
        {"type": "RecordNps", "customer_id": c, "score": 6, "occurred_at": at(28)},
        {"type": "LogComplaint", "customer_id": c, "note": "交付延期两周", "occurred_at": at(16)},
    ]  # fmt: skip


def runner(store: EventStore, batch_size: int = 7) -> ProjectionRunner:
    return ProjectionRunner(store, open_doc_view(store), customer_360_model(Settings()), batch_size)


def test_the_customer_360_from_the_read_model(store: EventStore, executor: Executor) -> None:
    t = token()
    c = f"c-{t}"
    given(executor, *history(t))
    runner(store).catch_up()
    # An earlier order recorded late, folded by a fresh process that loads the saved state back.
    given(executor, book(t, amount="200", margin="50", day=5, order="oA"))
    projection = runner(store)
    projection.catch_up()
    view = CountingView(projection.view)

    doc = customer_360(view, c)  # type: ignore[arg-type]
    assert doc is not None
    assert view.calls == [("get", "customer"), ("part", "order")]
    assert (doc["name"], doc["industry"], doc["region"]) == ("Acme", "retail", "CN-E")
    assert doc["tags"] == ["strategic", "multi_site"]

    wang, tom = doc["contacts"]
    assert wang["title"] == "CIO"
    assert [(x["title"], x["since"]) for x in wang["titles"]] == [("采购经理", at(2)), ("CIO", at(10))]
    assert (wang["left_company"], wang["left_at"]) == (False, None)
    assert (tom["title"], tom["left_company"], tom["left_at"]) == ("CTO", True, at(12))

    deals = {d["deal_id"]: d for d in doc["deals"]}
    assert deals[f"d-{t}"]["stage"] == "won"
    assert deals[f"d-{t}"]["order_ids"] == [f"oB-{t}", f"oA-{t}"]
    assert deals[f"d-{t}"]["won_at"] == at(10, 10)
    assert (deals[f"d3-{t}"]["stage"], deals[f"d3-{t}"]["lost_reason"]) == ("lost", "price")
    assert deals[f"d3-{t}"]["lost_at"] == at(6)
    assert deals[f"d2-{t}"]["expected_amount"] == "100000"

    orders = doc["order_history"]["orders"]
    assert [(o["order_id"], o["signed_on"], o["first_order"], o["cancelled"]) for o in orders] == [
        (f"oA-{t}", "2026-01-05", True, False),
        (f"oB-{t}", "2026-01-10", False, False),
        (f"oC-{t}", "2026-01-20", False, True),
    ]
    assert orders[2]["cancel_reason"] == "scope_change"
    assert orders[1]["margin_rate"] == "0.3000"
    assert doc["orders"] == {
        "count": 3,
        "first": 1,
        "repeat": 2,
        "cancelled": 1,
        "first_order_id": f"oA-{t}",
        "first_signed_on": "2026-01-05",
        "last_signed_on": "2026-01-20",
        "amount": "1200",
        "gross_margin": "350",
    }
    assert doc["nps"]["mean"] == "7.50"
    assert doc["nps"]["net"] == "0.0"
    assert [s["score"] for s in doc["nps"]["scores"]] == [9, 6]
    assert [x["note"] for x in doc["complaints"]] == ["交付延期两周"]
    assert doc["activities"]["count"] == 2
    # The question about the budget is not an approval.
    assert doc["activities"]["action_tags"] == {
        "competitor_mentioned": 1,
        "decision_chain_confirmed": 1,
        "price_objection": 1,
    }

    tagged = projection.view.part(CUSTOMER_360, "rep_tags", f"rep:smb-{t}")
    assert [d for _, d in tagged] == [
        {
            "rep_id": f"smb-{t}",
            "period": "2026-01",
            "activities": 2,
            "tags": {"competitor_mentioned": 1, "decision_chain_confirmed": 1, "price_objection": 1},
        }
    ]

    checked = projection.verify()
    assert checked["saved"] == checked["replayed"]


def test_activity_documents_of_layout_2_give_way_to_notes(store: EventStore, executor: Executor) -> None:
    t = token()
    given(executor, *history(t))
    view = open_doc_view(store)
    rules = DocChange("rules", "in_use", {"action_tags": "a", "tag_keywords": "b", "layout": "2"})
    activity = DocChange("activity", "x:1", {"kind": "demo", "keyword_tags": {}}, f"customer:c-{t}", "x")
    view.save(CUSTOMER_360, [rules, activity], [], 3)
    projection = runner(store)
    assert projection.position == 0
    projection.catch_up()
    assert view.part(CUSTOMER_360, "activity", f"customer:c-{t}") == []
    assert [n["kind"] for _, n in view.part(CUSTOMER_360, "note", f"customer:c-{t}")] == ["call"]


def test_no_order_query_for_a_customer_without_orders_and_a_date_range(
    store: EventStore, executor: Executor
) -> None:
    t = token()
    given(executor, *history(t))
    projection = runner(store, batch_size=1000)
    projection.catch_up()
    view = CountingView(projection.view)
    quiet = customer_360(view, f"quiet-{t}")  # type: ignore[arg-type]
    assert quiet is not None
    assert view.calls == [("get", "customer")]
    assert quiet["order_history"]["orders"] == [] and quiet["orders"]["count"] == 0
    assert customer_360(view, f"nobody-{t}") is None  # type: ignore[arg-type]

    ranged = customer_360(projection.view, f"c-{t}", since=date(2026, 1, 6), until=date(2026, 1, 20))
    assert ranged is not None
    history_ = ranged["order_history"]
    # Both ends inclusive; totals of the range count standing orders only.
    assert [o["order_id"] for o in history_["orders"]] == [f"oB-{t}", f"oC-{t}"]
    assert (history_["count"], history_["cancelled"], history_["amount"]) == (2, 1, "1000")
    none = customer_360(projection.view, f"c-{t}", since=date(2026, 1, 21))
    assert none is not None and none["order_history"]["orders"] == []


def test_tag_suggestions_explain_themselves(store: EventStore, executor: Executor) -> None:
    t = token()
    given(executor, *history(t))
    projection = runner(store, batch_size=1000)
    projection.catch_up()
    found = suggest_tags(projection.view, f"c-{t}")
    assert found is not None
    by_tag = {s["tag"]: s for s in found["suggestions"]}
    assert "strategic" not in by_tag and "multi_site" not in by_tag
    expanding = by_tag["expanding"]
    # The twin (same industry and region, a shared tag) has it, and a transcript mentions a new plant.
    assert [x["customer_id"] for x in expanding["similar_customers"]["customers"]] == [f"twin-{t}"]
    assert any("same industry (retail)" in why for why in expanding["because"])
    assert [n["matched"] for n in expanding["notes"]] == [["new plant"]]
    assert expanding["score"] > by_tag.get("price_sensitive", {"score": 0})["score"]
    # Only the call's transcript fired a keyword rule: the demo, with no text, is evidence of nothing
    # and has no document, though the customer's summary counts both.
    notes = projection.view.part(CUSTOMER_360, "note", customer_part(f"c-{t}"))
    assert [(n["kind"], n["deal_id"]) for _, n in notes] == [("call", f"d-{t}")]
    assert customer_360(projection.view, f"c-{t}")["activities"]["count"] == 2  # type: ignore[index]


def test_changed_rules_show_as_a_difference_until_rebuilt(store: EventStore, executor: Executor) -> None:
    t = token()
    given(executor, *history(t))
    runner(store, batch_size=1000).catch_up()
    narrow = TextTagger(TagRules.model_validate({"tags": {"price_objection": {"keywords": ["太贵"]}}}))
    default = customer_360_model(Settings())()

    def factory() -> Customer360:
        return Customer360(narrow, default.keyword_tags)

    changed = ProjectionRunner(store, open_doc_view(store), factory)
    model = changed.model
    assert isinstance(model, Customer360)
    assert model.rules_in_use is not None and model.rules_in_use != model.rules_now
    checked = changed.verify()
    assert checked["saved"] != checked["replayed"]
    changed.rebuild()
    checked = changed.verify()
    assert checked["saved"] == checked["replayed"]
    doc = customer_360(changed.view, f"c-{t}")
    assert doc is not None and doc["activities"]["action_tags"] == {"price_objection": 1}


def test_the_customer_command(database_url: str, executor: Executor) -> None:
    t = token()
    given(executor, *history(t))
    shown = salesledger(database_url, "customer", f"c-{t}", "--since", "2026-01-10", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert [o["order_id"] for o in doc["order_history"]["orders"]] == [f"oB-{t}", f"oC-{t}"]
    assert doc["orders"]["first_order_id"] == f"oB-{t}"

    text = salesledger(database_url, "customer", f"c-{t}")
    assert text.returncode == 0, text.stderr
    assert "Acme" in text.stdout and "left 2026-01-12" in text.stdout and "NPS: mean 7.50" in text.stdout

    suggested = salesledger(database_url, "customer", f"c-{t}", "--suggest-tags", "--format", "json")
    assert suggested.returncode == 0, suggested.stderr
    assert "expanding" in [s["tag"] for s in json.loads(suggested.stdout)["suggestions"]]

    missing = salesledger(database_url, "customer", f"nobody-{t}")
    assert missing.returncode == 1
    assert f"customer_id: no customer 'nobody-{t}'" in missing.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_bad_rules_file_is_named(database_url: str, tmp_path: Any, monkeypatch: Any) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("tags:\n  price_objection:\n    patterns: ['(unclosed']\n", encoding="utf-8")
    monkeypatch.setenv("SALESLEDGER_ACTION_TAG_RULES", str(rules))
    result = salesledger(database_url, "customer", "c-1")
    assert result.returncode == 1
    assert "tags.price_objection.patterns.0: Value error, not a valid regular expression" in result.stderr
    assert str(rules) in result.stderr


def test_documents_saved_in_an_earlier_layout_are_folded_again(store: EventStore, executor: Executor) -> None:
    t = token()
    given(executor, *history(t))
    view = open_doc_view(store)
    # Layout 1 named its rules without a layout and kept a document per activity for quality reports.
    rules = DocChange("rules", "in_use", {"action_tags": "a", "tag_keywords": "b"})
    activity = DocChange("activity_tags", "x:1", {"tags": ["price_objection"]}, f"rep:smb-{t}", "2026-01:x")
    view.save(CUSTOMER_360, [rules, activity], [], 3)
    projection = runner(store)
    assert projection.position == 0
    assert view.everything(CUSTOMER_360) == []
    projection.catch_up()
    assert view.part(CUSTOMER_360, "activity_tags", f"rep:smb-{t}") == []
    assert [d["period"] for _, d in view.part(CUSTOMER_360, "rep_tags", f"rep:smb-{t}")] == ["2026-01"]
    checked = projection.verify()
    assert checked["saved"] == checked["replayed"]
