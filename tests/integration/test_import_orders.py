"""`salesledger import-orders`: an ERP export booked as BookOrder commands through a column mapping,
idempotent by order id, refused rows reported with their line and reason, a bad mapping named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.customer_360_model import customer_360 as customer_360_model
from adapters.customer_query import customer_360
from adapters.order_import import OrderMapping, import_orders
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.settings import Settings
from commands.executor import Executor
from commands.store import EventStore
from tests.builders import given, open_deal, org, token
from tests.cli import salesledger
from tests.conftest import event_count


def export(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_export_is_booked_once_and_refused_rows_are_named(
    database_url: str, store: EventStore, executor: Executor, tmp_path: Path
) -> None:
    t = token()
    given(executor, *org(t), open_deal(t), open_deal(t, deal="d2"))
    csv = export(
        tmp_path,
        "order_no,deal_ref,total,margin,signed,currency\n"
        f"o1-{t},d-{t},1200.50,300,2026-01-10,CNY\n"
        f'o2-{t},d2-{t},"1,234.50",200.25,2026-01-12,CNY\n'
        "\n"
        f'o3-{t},d-{t},"12,5",1,2026-01-13,CNY\n'
        f"o4-{t},nope-{t},100,10,2026-01-14,CNY\n"
        f"o5-{t},d-{t},100,200,2026-01-15,CNY\n"
        f"o6-{t},d-{t},100,10,,CNY\n"
        f"o7-{t},d-{t},1,234.50,10,2026-01-16,CNY\n"
        f"o8-{t},d-{t},100,10,15/01/2026,CNY\n",
    )
    first = salesledger(database_url, "import-orders", str(csv), "--format", "json")
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    assert (report["rows"], report["accepted"], report["duplicates"]) == (8, 2, 0)
    rejected = {r["row"]: (r["order_id"], r["error"]) for r in report["rejected"]}
    assert rejected == {
        5: (
            f"o3-{t}",
            "amount (column 'total'): '12,5' is not a number with '.' as the decimal mark "
            "(set decimal_comma: true for , as the decimal mark)",
        ),
        6: (f"o4-{t}", f"deal_id: unknown deal 'nope-{t}'"),
        7: (f"o5-{t}", "gross_margin: must not exceed the amount (100)"),
        8: (f"o6-{t}", "signed_on (column 'signed'): empty cell"),
        9: (f"o7-{t}", "row: has 7 cells, the header has 6 (a delimiter inside an unquoted value?)"),
        10: (f"o8-{t}", "signed_on (column 'signed'): '15/01/2026' is not a date in the format %Y-%m-%d"),
    }

    written = event_count(store)
    again = salesledger(database_url, "import-orders", str(csv))
    assert again.returncode == 1
    assert again.stdout.splitlines()[0] == "rows 8: accepted 0, duplicates 2, rejected 6"
    assert f"row 6 (order o4-{t}): deal_id: unknown deal 'nope-{t}'" in again.stdout
    assert event_count(store) == written

    projection = ProjectionRunner(store, open_doc_view(store), customer_360_model(Settings()))
    projection.catch_up()
    doc = customer_360(projection.view, f"c-{t}")
    assert doc is not None
    booked = [
        (o["order_id"], o["amount"], o["gross_margin"], o["booked_at"])
        for o in doc["order_history"]["orders"]
    ]
    # Without a timestamp column an order is booked at the end of its signing day (mapping timezone: UTC).
    assert booked == [
        (f"o1-{t}", "1200.50", "300", "2026-01-10T23:59:59+00:00"),
        (f"o2-{t}", "1234.50", "200.25", "2026-01-12T23:59:59+00:00"),
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mapping_for_another_erp(store: EventStore, executor: Executor, tmp_path: Path) -> None:
    t = token()
    given(executor, *org(t), open_deal(t))
    mapping = OrderMapping.model_validate(
        {
            "columns": {
                "order_id": "Belegnummer",
                "deal_id": "Projekt",
                "amount": "Betrag",
                "gross_margin": "Deckungsbeitrag",
                "signed_on": "Datum",
                "occurred_at": "Erfasst",
            },
            "date_format": "%d.%m.%Y",
            "timestamp_format": "%d.%m.%Y %H:%M",
            "timezone": "+08:00",
            "decimal_comma": True,
            "delimiter": ";",
            "command_id_prefix": "sap:",
        }
    )
    lines = [
        "Belegnummer;Projekt;Betrag;Deckungsbeitrag;Datum;Erfasst\n",
        f"A-{t};d-{t};1.234,56;234,5;03.02.2026;03.02.2026 14:30\n",
        f"B-{t};d-{t};99,9;9;04.02.2026;2026-02-04\n",
    ]
    report = import_orders(executor, lines, mapping, "export.csv")
    assert (report.accepted, report.duplicates) == (1, 0)
    assert report.rejected == [
        {
            "row": 3,
            "order_id": f"B-{t}",
            "error": "occurred_at (column 'Erfasst'): '2026-02-04' is not a timestamp in the format "
            "%d.%m.%Y %H:%M",
        }
    ]
    assert import_orders(executor, lines[:2], mapping, "export.csv").duplicates == 1

    projection = ProjectionRunner(store, open_doc_view(store), customer_360_model(Settings()))
    projection.catch_up()
    doc = customer_360(projection.view, f"c-{t}")
    assert doc is not None
    (order,) = doc["order_history"]["orders"]
    assert (order["amount"], order["gross_margin"], order["signed_on"]) == ("1234.56", "234.5", "2026-02-03")
    assert order["booked_at"] == "2026-02-03T14:30:00+08:00"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            "columns: {order_id: order_no, deal_id: deal_ref, margin: margin, signed_on: signed}\n",
            "columns.amount: Field required; columns.gross_margin: Field required; "
            "columns.margin: Extra inputs are not permitted",
        ),
        (
            "columns: {order_id: order_no, deal_id: deal_ref, amount: Betrag, gross_margin: margin, "
            "signed_on: signed}\n",
            "columns.amount: column 'Betrag' is not in the header of orders.csv",
        ),
        (
            "columns: {order_id: order_no, deal_id: deal_ref, amount: total, gross_margin: margin, "
            "signed_on: signed}\ntimezone: Mars/Olympus\n",
            "timezone: Value error, 'Mars/Olympus' is neither an IANA zone name",
        ),
        ("columns: [order_no\n", "not valid YAML or JSON"),
    ],
)
def test_a_bad_mapping_is_refused_before_anything_is_written(
    database_url: str, store: EventStore, tmp_path: Path, mapping: str, message: str
) -> None:
    csv = export(tmp_path, "order_no,deal_ref,total,margin,signed\no1,d1,100,10,2026-01-10\n")
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    before = event_count(store)
    result = salesledger(database_url, "import-orders", str(csv), "--mapping", str(path))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert event_count(store) == before
