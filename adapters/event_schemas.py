"""JSON Schema of every value published on Kafka, generated from the models.

An event's schema comes from its class: the base fields, then the fields of the method that
triggers it, with their type hints (pydantic builds the schema of each). The ledger line's
comes from `LedgerLineValue`, which mirrors `replay.payroll.line_document`. The files live in
deploy/schemas/ for downstream systems; tests/unit/test_event_schemas.py fails when they
are stale (regenerate with `salesledger schemas`) and validates published values against them.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NotRequired
from uuid import UUID

from pydantic import ConfigDict, Field, TypeAdapter, create_model
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema
from typing_extensions import TypedDict

from adapters.event_json import (
    BASE_FIELDS,
    INTERNAL_FIELDS,
    LEDGER_LINE_SCHEMA_VERSION,
    LEDGER_LINE_TYPE,
    event_classes,
    event_type,
    schema_version,
)
from adapters.kafka_topics import LEDGER_LINES
from domain.pay_history import LineKind

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "deploy" / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
LEDGER_LINE_FILE = "ledger-line.schema.json"
INDEX_FILE = "index.json"
HEADERS = {
    "event_id": "stable id: 'aggregate-uuid:version' for events, 'closing-event-id#n' for ledger lines",
    "event_type": "the schema's title, e.g. 'Deal.Opened' or 'LedgerLine'",
    "schema_version": "version of the value's schema (integer as text)",
    "store_position": "notification id of the event in the store (for lines: of the closing event)",
}


class _SerializedDecimals(GenerateJsonSchema):
    # Values carry decimals as the exact strings str(Decimal) gives: say so in the schema.
    def get_decimal_pattern(self, schema: core_schema.DecimalSchema) -> str | None:
        return self.build_decimal_pattern(schema)


_BASE: dict[str, Any] = {
    "originator_id": (UUID, Field(description="aggregate id, also the record key")),
    "originator_version": (int, Field(ge=1, description="the event's version within its aggregate")),
    "timestamp": (datetime, Field(description="when the store recorded the event")),
}


def event_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    own = [
        field.name
        for field in dataclasses.fields(cls)
        if field.name not in BASE_FIELDS and field.name not in INTERNAL_FIELDS
    ]
    name = event_type(cls)
    fields: dict[str, Any] = {**_BASE, **{field: (hints[field], ...) for field in own}}
    model = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    body = model.model_json_schema(mode="serialization", schema_generator=_SerializedDecimals)
    topic = event_classes()[cls]
    return _document(
        name,
        schema_version(cls),
        f"{name} event, published on the topic PREFIX{topic} (salesledger.{topic} by default), "
        "keyed by the aggregate id (originator_id).",
        body,
    )


class LedgerLineValue(TypedDict):
    """A ledger line as published on the ledger-lines topic, keyed by rep."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    period: Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="period it is posted in")]
    rep_id: str
    kind: LineKind
    amount: Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="decimal, two places")]
    plan: Annotated[str, Field(pattern=r"^.+@[0-9]+$", description="NAME@VERSION")]
    order_id: NotRequired[Annotated[str, Field(description="base and bonus lines")]]
    corrects: NotRequired[Annotated[str, Field(description="adjustment lines: the period corrected")]]
    sources: Annotated[list[str], Field(description="ids of the events the line came from")]


def ledger_line_schema() -> dict[str, Any]:
    body = TypeAdapter(LedgerLineValue).json_schema(mode="serialization")
    return _document(
        LEDGER_LINE_TYPE,
        LEDGER_LINE_SCHEMA_VERSION,
        f"A frozen ledger line, published on the topic PREFIX{LEDGER_LINES} (salesledger.{LEDGER_LINES} "
        "by default), keyed by rep_id, when its period closes; adjustments to earlier periods are "
        "lines of the closing period.",
        body,
    )


def _document(title: str, version: int, description: str, body: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"urn:salesledger:schema:{title}:{version}",
        "title": title,
        "description": description,
        "x-schema-version": version,
    }
    schema.update({key: value for key, value in body.items() if key not in ("title", "description")})
    return schema


def schema_file(type_name: str) -> str:
    return LEDGER_LINE_FILE if type_name == LEDGER_LINE_TYPE else f"{type_name}.schema.json"


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file's content by file name, plus an index of types, topics and headers."""
    classes = sorted(event_classes().items(), key=lambda item: event_type(item[0]))
    files = {schema_file(event_type(cls)): event_schema(cls) for cls, _ in classes}
    files[LEDGER_LINE_FILE] = ledger_line_schema()
    files[INDEX_FILE] = {
        "headers": HEADERS,
        "types": {
            **{
                event_type(cls): {
                    "topic": short,
                    "key": "originator_id",
                    "schema": schema_file(event_type(cls)),
                    "schema_version": schema_version(cls),
                }
                for cls, short in classes
            },
            LEDGER_LINE_TYPE: {
                "topic": LEDGER_LINES,
                "key": "rep_id",
                "schema": LEDGER_LINE_FILE,
                "schema_version": LEDGER_LINE_SCHEMA_VERSION,
            },
        },
    }
    return files


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stale_files(directory: Path = DEFAULT_DIR) -> list[str]:
    """Files that are missing, differ from the models, or are left over from a removed type."""
    wanted = {name: render(doc) for name, doc in all_schemas().items()}
    present = {path.name for path in directory.glob("*.json")} if directory.is_dir() else set()
    stale = [
        name
        for name, text in wanted.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(stale + sorted(present - set(wanted)))


def write_schemas(directory: Path = DEFAULT_DIR) -> list[str]:
    """Writes every schema, removes files of types that no longer exist; returns what changed."""
    changed = stale_files(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wanted = all_schemas()
    for name in changed:
        if name in wanted:
            (directory / name).write_text(render(wanted[name]), encoding="utf-8")
        else:
            (directory / name).unlink()
    return changed


def load_schemas(directory: Path = DEFAULT_DIR) -> dict[str, dict[str, Any]]:
    """The published schemas by type name ('Deal.Opened', 'LedgerLine'), as downstream reads them."""
    index = json.loads((directory / INDEX_FILE).read_text(encoding="utf-8"))
    return {
        type_name: json.loads((directory / entry["schema"]).read_text(encoding="utf-8"))
        for type_name, entry in index["types"].items()
    }
