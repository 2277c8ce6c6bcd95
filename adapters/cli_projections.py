"""`salesledger projections status|rebuild|verify`: what ops need to trust and repair read models."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from adapters.bootstrap import bootstrap
from adapters.ledger_projection import LedgerProjection
from replay.payroll import line_document
from replay.recompute import recompute

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
NAME = click.argument("name", type=click.Choice(["ledger"]), default="ledger")
stderr = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )


def _emit(fmt: str, document: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=1) if fmt == "json" else text)


@click.group()
def projections() -> None:
    """Read models built from the event history: status, rebuild, verify."""


@projections.command("status")
@FORMAT
@click.pass_context
def status_command(ctx: click.Context, fmt: str) -> None:
    """Each projection's tracked position against the store's head (lag in events)."""
    service = bootstrap(ctx.obj["db"])
    try:
        status = LedgerProjection(service.store).status()
    finally:
        service.close()
    _emit(
        fmt,
        {"projections": [status]},
        f"ledger: position {status['position']} of {status['head']} (lag {status['lag']}), "
        f"closed {', '.join(status['closed_periods']) or 'none'}",  # type: ignore[arg-type]
    )


@projections.command("rebuild")
@NAME
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=2000, show_default=True)
@FORMAT
@click.pass_context
def rebuild_command(ctx: click.Context, name: str, batch_size: int, fmt: str) -> None:
    """Drop a projection's tables and fold the whole history again."""
    service = bootstrap(ctx.obj["db"])
    try:
        projection = LedgerProjection(service.store, batch_size=batch_size)
        with _progress() as progress:
            task = progress.add_task(f"rebuilding {name}", total=projection.head())
            position = projection.rebuild(
                lambda done, head: progress.update(task, completed=done, total=head)
            )
        status = projection.status()
    finally:
        service.close()
    _emit(fmt, {"rebuilt": name, **status}, f"rebuilt {name} up to position {position}")


@projections.command("verify")
@NAME
@FORMAT
@click.pass_context
def verify_command(ctx: click.Context, name: str, fmt: str) -> None:
    """Compare the saved projection, caught up, with a fresh replay of the history in memory."""
    service = bootstrap(ctx.obj["db"])
    try:
        projection = LedgerProjection(service.store)
        projection.catch_up()
        fresh = recompute(service.store)
        saved = projection.ledger
        periods = sorted(set(fresh) | set(saved.facts.periods()) | set(saved.closed))
        differences = []
        for period in periods:
            mine = [line_document(line) for line in saved.lines(period)]
            theirs = [line_document(line) for line in fresh.get(period, [])]
            if mine != theirs:
                differences.append({"period": period, "saved": mine, "replayed": theirs})
    finally:
        service.close()
    verdict = "consistent" if not differences else f"{len(differences)} period(s) differ"
    _emit(
        fmt,
        {"projection": name, "periods": periods, "consistent": not differences, "differences": differences},
        f"{name}: {verdict} over {len(periods)} period(s)",
    )
    sys.exit(0 if not differences else 1)
