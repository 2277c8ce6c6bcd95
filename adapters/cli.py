from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from adapters.bootstrap import bootstrap
from adapters.cli_alerts import alerts
from adapters.cli_analytics import ANALYTICS_COMMANDS
from adapters.cli_audit import audit
from adapters.cli_collaboration import sla_command, watch_sla_command
from adapters.cli_customer import customer_command
from adapters.cli_demo import demo_command
from adapters.cli_funnel import funnel_command, quality_command
from adapters.cli_http import serve_command, token
from adapters.cli_kafka import relay_command, schemas_command, tail_command
from adapters.cli_options import FORMAT
from adapters.cli_orders import import_orders_command
from adapters.cli_payroll import payroll, plan
from adapters.cli_progress import bytes_bar, stderr
from adapters.cli_projections import projections
from adapters.cli_watch import watch
from adapters.importer import import_lines
from adapters.simulation import simulate
from adapters.simulation.jsonl import write_jsonl
from adapters.simulation.planting import PLANTABLE, parse_plant


@click.group()
@click.option(
    "--db",
    envvar="SALESLEDGER_DATABASE_URL",
    default="sqlite:///./salesledger.db",
    show_default=True,
    help="Event store: sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB",
)
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """salesledger: every sales action an immutable event; pay, funnel and audit as projections."""
    ctx.obj = {"db": db}


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None, help="Commands per transaction.")
@FORMAT
@click.pass_context
def import_command(ctx: click.Context, file: Path, batch_size: int | None, fmt: str) -> None:
    """Apply a JSONL file of commands in file order; refused lines are reported and the rest go on."""
    service = bootstrap(ctx.obj["db"])
    try:
        size = batch_size or service.settings.import_batch_size
        with (
            file.open(encoding="utf-8") as lines,
            bytes_bar() as progress,
        ):
            task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
            report = import_lines(service.executor, lines, size, on_line=lambda n: progress.advance(task, n))
    finally:
        service.close()
    if fmt == "json":
        _print_json(report.as_json())
    else:
        click.echo(
            f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {len(report.rejected)}"
        )
        for rejection in report.rejected:
            click.echo(f"line {rejection['line']}: {rejection['error']}")
    sys.exit(0 if report.ok else 1)


@main.command("simulate")
@click.option("--reps", type=click.IntRange(1), default=20, show_default=True)
@click.option("--deals", type=click.IntRange(0), default=200, show_default=True)
@click.option("--months", type=click.IntRange(1, 120), default=6, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", default="2026-01", show_default=True, help="First period (YYYY-MM).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--plant",
    multiple=True,
    help=f"FACTOR=ODDS: deals with FACTOR ({', '.join(PLANTABLE)}) win with these odds times the others' "
    "(a controlled experiment for attribution; see adapters/simulation/planting.py).",
)
def simulate_command(
    reps: int, deals: int, months: int, seed: int, start: str, output: Path | None, plant: tuple[str, ...]
) -> None:
    """Write a realistic, reproducible command history as JSONL (stdout unless --output)."""
    try:
        planted = parse_plant(plant) if plant else None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    commands = simulate(reps=reps, deals=deals, months=months, seed=seed, start=start, plant=planted)
    if output is None:
        count = write_jsonl(commands, sys.stdout)
    else:
        with output.open("w", encoding="utf-8") as stream:
            count = write_jsonl(commands, stream)
    stderr.print(f"wrote {count} commands", style="dim")


def _print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=1))


main.add_command(payroll)
main.add_command(plan)
main.add_command(projections)
main.add_command(audit)
main.add_command(customer_command)
main.add_command(import_orders_command)
main.add_command(funnel_command)
main.add_command(quality_command)
main.add_command(watch)
main.add_command(relay_command)
main.add_command(tail_command)
main.add_command(schemas_command)
main.add_command(sla_command)
watch.add_command(watch_sla_command)
main.add_command(alerts)
main.add_command(serve_command)
main.add_command(token)
main.add_command(demo_command)
for analytics_command in ANALYTICS_COMMANDS:
    main.add_command(analytics_command)
