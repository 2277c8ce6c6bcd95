"""`salesledger demo`: a simulated organisation in a fresh store, its projections caught up, a short
summary, and the dashboard served with an admin token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import uvicorn

from adapters.bootstrap import Service, bootstrap, system_clock
from adapters.cli_funnel import load_benchmarks
from adapters.cli_progress import count_bar, stderr, tracker
from adapters.config_files import ConfigError
from adapters.demo_summary import summary
from adapters.demo_text import render
from adapters.http_app import create_app
from adapters.importer import ImportReport, import_lines
from adapters.ledger_projection import LedgerProjection
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_models import read_models
from adapters.simulation import simulate
from adapters.tokens import TokenStore
from domain.periods import is_period

DEFAULT_DB = "sqlite:///./demo.db"


def history_start(now: datetime, months: int) -> str:
    """The first period of a history of `months` whole months ending with the month before `now`."""
    index = now.year * 12 + now.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_period(start: str, months: int) -> str:
    index = int(start[:4]) * 12 + int(start[5:]) - 1 + months - 1
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def fresh_service(url: str, fresh: bool) -> Service:
    """The store at `url`, refused unless it is empty; with `fresh`, an SQLite file is started anew."""
    path = _sqlite_path(url)
    if fresh and path is not None:
        for leftover in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)
    service = bootstrap(url)
    if (service.store.recorder.max_notification_id() or 0) > 0:
        service.close()
        hint = "pass --fresh to start it anew" if path is not None else "use an empty database or schema"
        raise click.ClickException(f"--db: {url} already holds a history; {hint}")
    return service


def history(reps: int, deals: int, months: int, seed: int, start: str) -> list[str]:
    commands = simulate(reps=reps, deals=deals, months=months, seed=seed, start=start)
    return [json.dumps(command, ensure_ascii=False, separators=(",", ":")) for command in commands]


def import_history(service: Service, lines: list[str]) -> ImportReport:
    with count_bar(transient=False) as progress:
        task = progress.add_task("importing the history", total=len(lines))

        def counted() -> Iterator[str]:
            for line in lines:
                yield line
                progress.advance(task)

        return import_lines(service.executor, counted(), service.settings.import_batch_size)


def catch_up_all(service: Service) -> LedgerProjection:
    """Every projection folded up to the store's head, each with its own bar."""
    ledger = LedgerProjection(service.store)
    view = open_doc_view(service.store)
    runners: list[tuple[str, LedgerProjection | ProjectionRunner]] = [("ledger", ledger)]
    runners += [
        (name, ProjectionRunner(service.store, view, factory))
        for name, factory in read_models(service.settings).items()
    ]
    with count_bar(transient=False) as progress:
        for name, runner in runners:
            runner.catch_up(on_progress=tracker(progress, f"projecting {name}", runner.head()))
    return ledger


@click.command("demo")
@click.option("--reps", type=click.IntRange(1, 500), default=36, show_default=True)
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True)
@click.option("--deals", type=click.IntRange(0), default=None, help="Default: 1.5 deals per rep and month.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", default=None, help="First period YYYY-MM (default: the history ends last month).")
@click.option(
    "--db", "url", default=DEFAULT_DB, show_default=True, help="A store of its own, never the working one."
)
@click.option("--fresh", is_flag=True, help="Start an existing SQLite store anew (it is deleted).")
@click.option("--host", default=None, help="Default: SALESLEDGER_HTTP_HOST (127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: SALESLEDGER_HTTP_PORT.")
@click.option("--no-serve", is_flag=True, help="Stop after the summary and the token.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def demo_command(
    reps: int,
    months: int,
    deals: int | None,
    seed: int,
    start: str | None,
    url: str,
    fresh: bool,
    host: str | None,
    port: int | None,
    no_serve: bool,
    fmt: str,
) -> None:
    """Simulate an organisation (reps, a year of deals, pay plans, closed periods, a rerun) into a fresh
    store, catch every projection up, print a summary, and serve the dashboard with an admin token."""
    now = system_clock()
    start = start or history_start(now, months)
    if not is_period(start):
        raise click.BadParameter("must be a period YYYY-MM", param_hint="--start")
    service = fresh_service(url, fresh)
    try:
        try:
            benchmarks = load_benchmarks(service.settings.funnel_benchmarks)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        lines = history(reps, deals if deals is not None else reps * months * 3 // 2, months, seed, start)
        stderr.print(f"simulated {reps} reps over {months} months: {len(lines)} commands", style="dim")
        report = import_history(service, lines)
        ledger = catch_up_all(service).ledger
        stderr.print("every projection caught up", style="dim")
        view = open_doc_view(service.store)
        document: dict[str, Any] = {
            "store": url,
            "reps": reps,
            "periods": [start, last_period(start, months)],
            "commands": len(lines),
            "accepted": report.accepted,
            "refused": len(report.rejected),
            **summary(
                service.store, service.settings, view, ledger, last_period(start, months), benchmarks, now
            ),
        }
        _, secret = TokenStore(service.store).create("admin", None, None, now)
        settings = service.settings
        host, port = host or settings.http_host, port or settings.http_port
        document["url"] = f"http://{host}:{port}/static/index.html"
        document["token"] = secret
        click.echo(json.dumps(document, ensure_ascii=False, indent=1) if fmt == "json" else render(document))
        if not no_serve:
            stderr.print("serving the dashboard and the API; Ctrl-C stops", style="dim")
            uvicorn.run(create_app(service), host=host, port=port, log_level=settings.log_level)
    finally:
        service.close()
