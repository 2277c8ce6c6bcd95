"""Purchase orders from an ERP export (CSV) as `BookOrder` commands: which column holds which field, and
how dates and numbers are written, is configuration. Each order's `command_id` comes from its order id,
so importing the same export again applies nothing and reports duplicates."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from adapters.importer import ImportReport
from commands.executor import Executor
from commands.models import AnyCommand, BookOrder
from commands.parsing import InvalidCommand

Column = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
# Digits with an optional sign, thousands groups all written with the same separator, and decimals.
_POINT_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?P<sep>[, \u00a0'])\d{3}(?:(?P=sep)\d{3})*|\d+)(?:\.\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?P<sep>[. \u00a0'])\d{3}(?:(?P=sep)\d{3})*|\d+)(?:,\d+)?$")


class Columns(BaseModel):
    """The ERP column holding each BookOrder field."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    order_id: Column
    deal_id: Column
    amount: Column
    gross_margin: Column
    signed_on: Column
    occurred_at: Column | None = None


def zone(text: str) -> tzinfo:
    offset = _OFFSET.match(text)
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{text!r} is neither an IANA zone name (Asia/Shanghai) nor an offset (+08:00)"
        ) from None


class OrderMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    columns: Columns
    date_format: str = "%Y-%m-%d"
    # None reads ISO 8601.
    timestamp_format: str | None = None
    timezone: str = "UTC"
    occurred_time: time = time(23, 59, 59)
    decimal_comma: bool = False
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    command_id_prefix: str = Field(default="erp-order:", max_length=50)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return value

    @field_validator("date_format", "timestamp_format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(f"{value!r} is not a strptime format (e.g. %d.%m.%Y)")
        return value

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)


class MappingError(ValueError):
    """The file does not fit the mapping (a mapped column is missing): nothing is imported."""


def number(text: str, decimal_comma: bool) -> str:
    cleaned = text.strip()
    pattern = _COMMA_NUMBER if decimal_comma else _POINT_NUMBER
    found = pattern.match(cleaned)
    if found is None:
        mark, other = (",", ".") if decimal_comma else (".", ",")
        hint = f" (set decimal_comma: {str(not decimal_comma).lower()} for {other} as the decimal mark)"
        raise ValueError(f"{text!r} is not a number with {mark!r} as the decimal mark{hint}")
    if found.group("sep"):
        cleaned = cleaned.replace(found.group("sep"), "")
    return cleaned.replace(",", ".") if decimal_comma else cleaned


class OrderRows:
    """Turns the rows of one export into commands, or into the reason a row is refused."""

    def __init__(self, mapping: OrderMapping, header: list[str], source: str) -> None:
        self.mapping = mapping
        names = [name.strip() for name in header]
        self.width = len(names)
        self.index: dict[str, int] = {}
        for fld, column in mapping.columns.model_dump().items():
            if column is None:
                continue
            if column not in names:
                found = ", ".join(repr(n) for n in names) or "nothing"
                raise MappingError(
                    f"columns.{fld}: column {column!r} is not in the header of {source} (it has {found})"
                )
            if names.count(column) > 1:
                raise MappingError(f"columns.{fld}: column {column!r} appears more than once in {source}")
            self.index[fld] = names.index(column)

    def command(self, cells: list[str]) -> tuple[str | None, AnyCommand | InvalidCommand]:
        """The row's order id (when it has one) and its command, or why it cannot be one."""
        at = self.index["order_id"]
        if len(cells) != self.width:
            # The order id may still be where the header says: it helps find the row in the ERP.
            guess = cells[at].strip() if at < len(cells) else ""
            return guess or None, InvalidCommand(
                f"row: has {len(cells)} cells, the header has {self.width} "
                "(a delimiter inside an unquoted value?)"
            )
        values = {fld: cells[i].strip() for fld, i in self.index.items()}
        order_id = values["order_id"] or None
        problems: list[str] = []
        data: dict[str, Any] = {"type": "BookOrder"}
        for fld, value in values.items():
            if not value:
                problems.append(f"{self._name(fld)}: empty cell")
                continue
            try:
                data[fld] = self._convert(fld, value, values)
            except ValueError as error:
                problems.append(f"{self._name(fld)}: {error}")
        if "occurred_at" not in self.index and "signed_on" in data:
            moment = datetime.combine(data["signed_on"], self.mapping.occurred_time, self.mapping.tz)
            data["occurred_at"] = moment
        if order_id is not None:
            data["command_id"] = f"{self.mapping.command_id_prefix}{order_id}"
        if problems:
            return order_id, InvalidCommand("; ".join(problems))
        try:
            return order_id, BookOrder.model_validate(data)
        except ValidationError as error:
            described = []
            for item in error.errors(include_url=False):
                fld = str(item["loc"][0]) if item["loc"] else "row"
                described.append(f"{self._name(fld)}: {item['msg']}")
            return order_id, InvalidCommand("; ".join(described))

    def _name(self, fld: str) -> str:
        column = getattr(self.mapping.columns, fld, None)
        return f"{fld} (column {column!r})" if column else fld

    def _convert(self, fld: str, value: str, values: dict[str, str]) -> Any:
        mapping = self.mapping
        if fld in ("amount", "gross_margin"):
            return number(value, mapping.decimal_comma)
        if fld == "signed_on":
            try:
                return datetime.strptime(value, mapping.date_format).date()  # noqa: DTZ007 a date, no zone
            except ValueError:
                raise ValueError(f"{value!r} is not a date in the format {mapping.date_format}") from None
        if fld == "occurred_at":
            return self._timestamp(value)
        return value

    def _timestamp(self, value: str) -> datetime:
        fmt = self.mapping.timestamp_format
        try:
            # A naive time is read in the mapping's zone below.
            moment = datetime.fromisoformat(value) if fmt is None else datetime.strptime(value, fmt)  # noqa: DTZ007
        except ValueError:
            expected = "ISO 8601" if fmt is None else fmt
            raise ValueError(f"{value!r} is not a timestamp in the format {expected}") from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.mapping.tz)


@dataclass
class OrderImportReport(ImportReport):
    """An import report that also counts the CSV rows read."""

    rows: int = 0

    def as_json(self) -> dict[str, object]:
        return {"rows": self.rows, **super().as_json()}


def _rows(reader: Any) -> Iterator[tuple[int, list[str] | Exception]]:
    """(line the row starts on, its cells) — numbered as a spreadsheet or an editor shows it; a row the
    csv module cannot read ends the file, reported as that row."""
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            yield start, error
            return
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def import_orders(
    executor: Executor,
    lines: Iterable[str],
    mapping: OrderMapping,
    source: str,
    batch_size: int = 500,
) -> OrderImportReport:
    """Books every row in file order, each on its own: a refused row is reported, the rest go on.

    Raises MappingError, before anything is written, when the header lacks a mapped column."""
    reader = csv.reader(lines, delimiter=mapping.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise MappingError(f"{source}: is empty; the first line must be the header") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise MappingError(
            f"{source}: the header is not readable ({error}); check encoding and delimiter"
        ) from None
    rows = OrderRows(mapping, header, source)
    report = OrderImportReport()
    numbered: list[tuple[int, str | None]] = []

    def commands() -> Iterator[AnyCommand | InvalidCommand]:
        for number, cells in _rows(reader):
            if isinstance(cells, Exception):
                numbered.append((number, None))
                yield InvalidCommand(f"row: not readable, the rest of the file is skipped: {cells}")
                continue
            order_id, command = rows.command(cells)
            numbered.append((number, order_id))
            yield command

    for index, outcome in enumerate(executor.execute_many(commands(), batch_size)):
        report.rows += 1
        if outcome.status == "duplicate":
            report.duplicates += 1
        elif outcome.status == "applied":
            report.accepted += 1
        else:
            row_number, order_id = numbered[index]
            report.rejected.append({"row": row_number, "order_id": order_id, "error": outcome.error})
    return report


ProgressHook = Callable[[int], None]


def counted(lines: Iterable[str], on_bytes: ProgressHook) -> Iterator[str]:
    for line in lines:
        on_bytes(len(line.encode()))
        yield line
