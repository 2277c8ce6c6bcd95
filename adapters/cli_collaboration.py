"""`salesledger sla`: the SLA board per department, overdue requests and flagged contract clauses;
`salesledger watch sla`: records `SlaBreached` for every department past its deadline undecided."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from adapters.bootstrap import bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_progress import count_bar
from adapters.cli_projections import caught_up
from adapters.clock_option import now_option, now_or_system
from adapters.sla_board import COLLABORATION, board, breach_recorded_after, due_breaches
from commands.models import RecordSlaBreaches

stdout = Console()


@click.command("sla")
@now_option
@FORMAT
@click.pass_context
def sla_command(ctx: click.Context, now: datetime | None, fmt: str) -> None:
    """The SLA board per department, the requests overdue at --now, and flagged contract clauses."""
    moment = now_or_system(now)
    service = bootstrap(ctx.obj["db"])
    try:
        runner = caught_up(service, COLLABORATION)
        report = board(runner.view, service.settings.sla_hours, moment)
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        _print_board(report)


def _print_board(report: dict[str, Any]) -> None:
    table = Table(title=f"SLA board as of {report['as_of']}")
    columns = [
        ("department", "department"),
        ("SLA h", "sla_hours"),
        ("requests", "requests"),
        ("decided", "decided"),
        ("mean response h", "mean_response_hours"),
        ("late", "late_decisions"),
        ("open", "open"),
        ("overdue", "overdue"),
        ("breaches", "breaches"),
        ("repeat rejections", "repeat_rejection_rate"),
    ]
    for title, _ in columns:
        table.add_column(title, justify="left" if title == "department" else "right")
    for line in report["departments"]:
        table.add_row(*("-" if line[field] is None else str(line[field]) for _, field in columns))
    stdout.print(table)
    if report["overdue"]:
        overdue = Table(title="Overdue requests")
        for title in ("request", "deal", "customer", "department", "deadline", "overdue h", "breach"):
            overdue.add_column(title)
        for doc in report["overdue"]:
            overdue.add_row(
                doc["request_id"],
                doc["deal_id"],
                doc["customer_id"],
                doc["department"],
                doc["deadline"],
                doc["overdue_hours"],
                "recorded" if doc["breached"] else "not yet",
            )
        stdout.print(overdue)
    if report["contract_risks"]:
        risks = Table(title="Contract risks")
        for title in ("contract", "deal", "customer", "rule", "detail"):
            risks.add_column(title)
        for doc in report["contract_risks"]:
            risks.add_row(doc["contract_id"], doc["deal_id"], doc["customer_id"], doc["rule"], doc["detail"])
        stdout.print(risks)


# Attached to the `watch` group (adapters/cli_watch.py) in adapters/cli.py.
@click.command("sla")
@now_option
@FORMAT
@click.pass_context
def watch_sla_command(ctx: click.Context, now: datetime | None, fmt: str) -> None:
    """Record `SlaBreached` for every department past its deadline at --now without a decision."""
    moment = now_or_system(now)
    service = bootstrap(ctx.obj["db"])
    try:
        runner = caught_up(service, COLLABORATION)
        start = runner.position
        due = due_breaches(runner.view, moment)
        requests = list(dict.fromkeys(doc["request_id"] for doc in due))
        refused: list[dict[str, str]] = []
        with count_bar() as progress:
            task = progress.add_task("recording breaches", total=len(requests))
            for request_id in requests:
                command = RecordSlaBreaches(type="RecordSlaBreaches", request_id=request_id, now=moment)
                outcome = service.executor.execute(command)
                if outcome.error is not None:
                    refused.append({"request_id": request_id, "error": outcome.error})
                progress.advance(task)
        runner.catch_up()
        # What the store now holds, not what was asked for: another watcher may have been first.
        recorded = [b for doc in due if (b := breach_recorded_after(runner.view, doc, start)) is not None]
    finally:
        service.close()
    report = {
        "as_of": moment.isoformat(),
        "requests_checked": len(requests),
        "recorded": recorded,
        "refused": refused,
    }
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(f"as of {report['as_of']}: {len(recorded)} breaches recorded on {len(requests)} requests")
        for breach in recorded:
            click.echo(f"  {breach['request_id']} {breach['department']} (deadline {breach['deadline']})")
        for refusal in refused:
            click.echo(f"  refused {refusal['request_id']}: {refusal['error']}")
    sys.exit(1 if refused else 0)
