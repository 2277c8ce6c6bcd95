"""`salesledger import-orders FILE.csv [--mapping FILE.yaml] [--format json]`: ERP purchase orders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from adapters.bootstrap import bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_progress import bytes_bar
from adapters.config_files import DEFAULT_ORDER_MAPPING, ConfigError, load_config
from adapters.order_import import MappingError, OrderMapping, counted, import_orders


@click.command("import-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Column mapping (YAML/JSON); default SALESLEDGER_ORDER_IMPORT_MAPPING or the bundled one.",
)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None, help="Orders per transaction.")
@FORMAT
@click.pass_context
def import_orders_command(
    ctx: click.Context, file: Path, mapping: Path | None, batch_size: int | None, fmt: str
) -> None:
    """Book the purchase orders of an ERP export (CSV), one BookOrder per row, in file order.

    A row is booked once: its command_id comes from its order id, so a re-import reports duplicates
    and applies nothing. Refused rows are reported with their line number and reason; exit 1 if any."""
    service = bootstrap(ctx.obj["db"])
    try:
        configured = service.settings.order_import_mapping
        path = mapping or (Path(configured) if configured else DEFAULT_ORDER_MAPPING)
        try:
            columns = load_config(path, OrderMapping, "order mapping")
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        size = batch_size or service.settings.import_batch_size
        with (
            file.open(encoding=columns.encoding, newline="") as lines,
            bytes_bar() as progress,
        ):
            task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
            rows = counted(lines, lambda n: progress.advance(task, n))
            try:
                report = import_orders(service.executor, rows, columns, file.name, size)
            except MappingError as error:
                raise click.ClickException(str(error)) from None
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(
            f"rows {report.rows}: accepted {report.accepted}, duplicates {report.duplicates}, "
            f"rejected {len(report.rejected)}"
        )
        for rejection in report.rejected:
            order = f" (order {rejection['order_id']})" if rejection["order_id"] else ""
            click.echo(f"row {rejection['row']}{order}: {rejection['error']}")
    sys.exit(0 if report.ok else 1)
