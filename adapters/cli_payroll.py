"""`salesledger payroll run|diff|apply|export|statement` and `salesledger plan publish`."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import yaml
from rich.console import Console
from rich.table import Table

from adapters.bootstrap import Service, bootstrap
from adapters.cli_options import FORMAT, period_value
from adapters.cli_progress import position_bar, stderr
from adapters.ledger_projection import LedgerProjection
from commands.parsing import InvalidCommand, parse_command
from domain.errors import DomainError
from projections.ledger import Ledger
from replay.payroll import (
    diff_document,
    export_rows,
    money,
    period_lines,
    run_document,
    statement_document,
    totals,
)

stdout = Console()


PERIOD = click.option("--period", required=True, callback=period_value, help="Pay period YYYY-MM.")


@contextmanager
def _ledger(ctx: click.Context, *, save: bool = True) -> Iterator[tuple[Service, Ledger]]:
    """The ledger caught up with every event in the store, before anything is answered."""
    service = bootstrap(ctx.obj["db"])
    try:
        projection = LedgerProjection(service.store)
        with position_bar("ledger catching up", projection.head()) as advance:
            projection.catch_up(save=save, on_progress=advance)
        yield service, projection.ledger
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        service.close()


def _emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=1))


@click.group()
def payroll() -> None:
    """Pay per period from the commission ledger: run, diff, apply a rerun, export, statements."""


@payroll.command("run")
@PERIOD
@click.option(
    "--plan", default=None, help="NAME@VERSION: sandbox computation under this plan; writes nothing."
)
@FORMAT
@click.pass_context
def run_command(ctx: click.Context, period: str, plan: str | None, fmt: str) -> None:
    """The period's ledger lines and per-rep totals (live, or a sandbox with --plan)."""
    with _ledger(ctx, save=plan is None) as (_, ledger):
        document = run_document(ledger, period, plan)
    if fmt == "json":
        _emit_json(document)
        return
    title = f"{period} — " + (f"sandbox under {plan}" if plan else "live ledger")
    table = Table(title=title)
    for column in ("rep", "kind", "amount", "plan", "order / corrects"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for line in document["lines"]:
        where = line.get("order_id") or line.get("corrects") or ""
        table.add_row(line["rep_id"], line["kind"], line["amount"], line["plan"], where)
    stdout.print(table)
    for rep_id, amount in document["totals"].items():
        stdout.print(f"  {rep_id:<16} {amount:>14}")


@payroll.command("diff")
@PERIOD
@click.option("--plan", required=True, help="NAME@VERSION to compare the live ledger with.")
@FORMAT
@click.pass_context
def diff_command(ctx: click.Context, period: str, plan: str, fmt: str) -> None:
    """Per rep: what the period pays now, what it would pay under PLAN, and the difference."""
    with _ledger(ctx, save=False) as (_, ledger):
        document = diff_document(ledger, period, plan)
    if fmt == "json":
        _emit_json(document)
        return
    table = Table(title=f"{period}: {document['live_plan']} (live) → {plan}")
    for column in ("rep", "live", "candidate", "difference"):
        table.add_column(column, justify="left" if column == "rep" else "right")
    for rep in document["reps"]:
        table.add_row(rep["rep_id"], rep["live"], rep["candidate"], rep["difference"])
    total = document["total"]
    table.add_row("total", total["live"], total["candidate"], total["difference"], style="bold")
    stdout.print(table)


@payroll.command("apply")
@PERIOD
@click.option("--plan", required=True, help="NAME@VERSION the closed period is rerun under.")
@click.option("--approved-by", required=True, help="Who approved the rerun (recorded in the event).")
@click.option("--command-id", default=None, help="Idempotency key: applying twice with it records once.")
@FORMAT
@click.pass_context
def apply_command(
    ctx: click.Context, period: str, plan: str, approved_by: str, command_id: str | None, fmt: str
) -> None:
    """Record an approved rerun: the difference is posted as adjustments in the first open period."""
    command: dict[str, Any] = {
        "type": "ApplyRerun",
        "period": period,
        "plan": plan,
        "approved_by": approved_by,
    }
    if command_id:
        command["command_id"] = command_id
    service = bootstrap(ctx.obj["db"])
    try:
        outcome = service.executor.execute(parse_command(command))
    except InvalidCommand as error:
        raise click.ClickException(str(error)) from None
    finally:
        service.close()
    if outcome.error is not None:
        raise click.ClickException(outcome.error)
    with _ledger(ctx) as (_, ledger):
        adjustments = [line for line in ledger.adjustments() if line.corrects == period]
        target = ledger.first_open
    document: dict[str, Any] = {
        "status": outcome.status,
        "position": outcome.position,
        "period": period,
        "plan": plan,
        "posted_in": target,
        "adjustments": {line.rep_id: money(line.amount) for line in adjustments},
    }
    if fmt == "json":
        _emit_json(document)
        return
    click.echo(f"rerun of {period} under {plan} {outcome.status}; adjustments in {target}:")
    for rep_id, amount in document["adjustments"].items():
        click.echo(f"  {rep_id:<16} {amount:>14}")


@payroll.command("export")
@PERIOD
@click.option("--by", type=click.Choice(["line", "rep"]), default="line", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def export_command(ctx: click.Context, period: str, by: str, output: Path | None) -> None:
    """CSV for payroll: every line with its sources, or one total per rep (--by rep)."""
    with _ledger(ctx) as (_, ledger):
        lines = period_lines(ledger, period)
        closed = ledger.is_closed(period)
    stream = sys.stdout if output is None else output.open("w", encoding="utf-8", newline="")
    try:
        if by == "rep":
            writer = csv.writer(stream)
            writer.writerow(["period", "rep_id", "amount", "closed"])
            for rep_id, amount in totals(lines).items():
                writer.writerow([period, rep_id, money(amount), "yes" if closed else "no"])
        else:
            rows = export_rows(lines)
            fields = ["period", "rep_id", "kind", "amount", "plan", "order_id", "corrects", "bonus_id"]
            dict_writer = csv.DictWriter(stream, fieldnames=[*fields, "sources", "explanation"])
            dict_writer.writeheader()
            dict_writer.writerows(rows)
    finally:
        if output is not None:
            stream.close()
    if not closed:
        stderr.print(
            f"note: {period} is open; these figures follow the history until it closes", style="yellow"
        )


@payroll.command("statement")
@PERIOD
@click.option("--rep", "rep_id", required=True)
@FORMAT
@click.pass_context
def statement_command(ctx: click.Context, period: str, rep_id: str, fmt: str) -> None:
    """A rep's pay for the period: every figure, how it was computed, its events and its plan."""
    with _ledger(ctx) as (service, ledger):
        document = statement_document(ledger, rep_id, period)
        events = _describe_sources(service, {s for line in document["lines"] for s in line["sources"]})
    document["events"] = events
    if fmt == "json":
        _emit_json(document)
        return
    state = "closed" if document["closed"] else "open"
    stdout.print(f"[bold]{rep_id}[/bold] — {period} ({state}): total {document['total']}")
    for line in document["lines"]:
        where = line.get("order_id") or line.get("corrects") or ""
        stdout.print(f"  {line['kind']:<11} {line['amount']:>12}  {line['plan']}  {where}")
        # Soft wrap: an explanation or a source stays on one line, whatever the width (grep, pipes).
        stdout.print(
            f"      {line['explanation']}", style="dim", markup=False, highlight=False, soft_wrap=True
        )
        for source in line["sources"]:
            event = events.get(source, {})
            stdout.print(
                f"      ← {event.get('type', '?')} {event.get('occurred_at', '')} [{source}]",
                style="dim",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


def _describe_sources(service: Service, sources: set[str]) -> dict[str, dict[str, Any]]:
    described: dict[str, dict[str, Any]] = {}
    for source in sorted(sources):
        originator, version = source.rsplit(":", 1)
        stored = service.store.recorder.select_events(
            UUID(originator), gt=int(version) - 1, lte=int(version), limit=1
        )
        if not stored:
            continue
        event = service.store.mapper.to_domain_event(stored[0])
        occurred = getattr(event, "occurred_at", None)
        recorded = getattr(event, "timestamp", None)
        described[source] = {
            "type": stored[0].topic.split(":", 1)[-1],
            "occurred_at": occurred.isoformat() if occurred is not None else None,
            "recorded_at": recorded.isoformat() if recorded is not None else None,
        }
    return described


@click.group()
def plan() -> None:
    """Commission plans: validated documents, published as events."""


@plan.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--command-id", default=None, help="Idempotency key (default: derived from the document).")
@FORMAT
@click.pass_context
def publish_command(ctx: click.Context, file: Path, command_id: str | None, fmt: str) -> None:
    """Publish a plan document (YAML or JSON); it is checked in full before anything is written."""
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise click.ClickException(f"plan: {file} is not valid YAML or JSON: {error}") from None
    command: dict[str, Any] = {"type": "PublishPlan", "plan": document}
    if isinstance(document, dict):
        command["command_id"] = command_id or f"plan:{document.get('name')}@{document.get('version')}"
    try:
        parsed = parse_command(command)
    except InvalidCommand as error:
        raise click.ClickException(str(error)) from None
    service = bootstrap(ctx.obj["db"])
    try:
        outcome = service.executor.execute(parsed)
    finally:
        service.close()
    if outcome.error is not None:
        raise click.ClickException(outcome.error)
    key = f"{document['name']}@{document['version']}"
    if fmt == "json":
        _emit_json({"plan": key, "status": outcome.status, "position": outcome.position})
    else:
        click.echo(f"plan {key} {outcome.status}")
