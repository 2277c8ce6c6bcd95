"""`salesledger projections status|rebuild|verify|run`: what ops need to trust and repair read models."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import click

from adapters.bootstrap import Service, bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_progress import position_bar, stderr
from adapters.ledger_projection import LedgerProjection
from adapters.projection_follow import EventWaiter
from adapters.projection_group import ProjectionGroup
from adapters.projection_members import (
    LEDGER,
    REBUILD_BATCH_SIZE,
    projection,
    projection_names,
    read_model_runner,
)
from adapters.projection_processes import ParallelRebuild, RebuildFailed, parallel_store
from adapters.projection_runner import ProjectionRunner, open_doc_view, saved_status
from adapters.projection_supervisor import Supervised, Supervisor
from adapters.read_models import read_models
from adapters.settings import Settings
from replay.payroll import line_document
from replay.recompute import recompute


def _emit(fmt: str, document: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=1) if fmt == "json" else text)


def _runner(service: Service, name: str, batch_size: int = 1000) -> ProjectionRunner:
    return read_model_runner(service.store, service.settings, name, batch_size)


def caught_up(service: Service, name: str) -> ProjectionRunner:
    """A read model with every event in the store folded in, as every query needs it."""
    runner = _runner(service, name)
    with position_bar(f"{name} catching up", runner.head()) as advance:
        runner.catch_up(on_progress=advance)
    return runner


def _name_choice() -> click.Choice[str]:
    return click.Choice([LEDGER, *read_models(Settings())])


@click.group()
def projections() -> None:
    """Read models built from the event history: status, rebuild, verify, run."""


@projections.command("status")
@FORMAT
@click.pass_context
def status_command(ctx: click.Context, fmt: str) -> None:
    """Each projection's tracked position against the store's head, and its parked events."""
    service = bootstrap(ctx.obj["db"])
    try:
        statuses = [LedgerProjection(service.store).status()]
        view = open_doc_view(service.store)
        statuses += [saved_status(service.store, view, name) for name in read_models(service.settings)]
    finally:
        service.close()
    lines = []
    for status in statuses:
        parked = len(status.get("parked", []))
        flag = f", {parked} parked" if parked else ""
        lines.append(
            f"{status['projection']:<12} position {status['position']} of {status['head']} "
            f"(lag {status['lag']}){flag}"
        )
    _emit(fmt, {"projections": statuses}, "\n".join(lines))


@projections.command("rebuild")
@click.argument("names", nargs=-1, type=_name_choice())
@click.option("--all", "everything", is_flag=True, help="Every projection, the ledger first.")
@click.option(
    "--batch-size", type=click.IntRange(1, 1_000_000), default=REBUILD_BATCH_SIZE, show_default=True
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Processes folding at once when several projections are rebuilt (PostgreSQL only; "
    "SQLite takes one writer at a time, so there it is always 1).",
)
@FORMAT
@click.pass_context
def rebuild_command(
    ctx: click.Context, names: tuple[str, ...], everything: bool, batch_size: int, workers: int, fmt: str
) -> None:
    """Drop projections' saved state and fold the whole history again. Several (or --all) are split
    over --workers processes; each process rebuilds its share in one pass over the store, each event
    read and decoded once for all of them."""
    if not names and not everything:
        raise click.UsageError("name a projection or pass --all")
    service = bootstrap(ctx.obj["db"])
    try:
        chosen = projection_names(service.settings) if everything else list(dict.fromkeys(names))
        label = f"rebuilding {', '.join(chosen)}"
        if len(chosen) > 1 and workers > 1 and parallel_store(service.settings):
            # The workers load and fold the projections; this process only shows their progress, then
            # their saved status (loading them here would only be thrown away by the rebuild).
            rebuild = ParallelRebuild(service.settings, chosen, batch_size, workers)
            head = service.store.recorder.max_notification_id() or 0
            with position_bar(label, head) as advance:
                try:
                    position = rebuild.run(head, advance)
                except RebuildFailed as failed:
                    raise click.ClickException(str(failed)) from failed
            view = open_doc_view(service.store)
            statuses = [
                LedgerProjection(service.store).status()
                if name == LEDGER
                else saved_status(service.store, view, name)
                for name in chosen
            ]
        else:
            members = [projection(service.store, service.settings, name, batch_size) for name in chosen]
            if len(members) == 1:
                with position_bar(label, members[0].head()) as advance:
                    position = members[0].rebuild(advance)
            else:
                group = ProjectionGroup(service.store, members, batch_size)
                with position_bar(label, group.head()) as advance:
                    position = group.rebuild(advance)
            statuses = [member.status() for member in members]
    finally:
        service.close()
    text = f"rebuilt {', '.join(chosen)} up to position {position}"
    if len(chosen) == 1 and not everything:
        _emit(fmt, {"rebuilt": chosen[0], **statuses[0]}, text)
    else:
        _emit(fmt, {"rebuilt": statuses}, text)


@projections.command("verify")
@click.argument("name", type=_name_choice())
@FORMAT
@click.pass_context
def verify_command(ctx: click.Context, name: str, fmt: str) -> None:
    """Compare the saved projection, caught up, with a fresh replay of the whole history."""
    service = bootstrap(ctx.obj["db"])
    try:
        document = _verify_ledger(service) if name == LEDGER else _runner(service, name).verify()
    finally:
        service.close()
    consistent = document["saved"] == document["replayed"]
    document["consistent"] = consistent
    verdict = "consistent" if consistent else "DIFFERS from a replay of the history"
    _emit(fmt, document, f"{name}: {verdict} (position {document['position']})")
    sys.exit(0 if consistent else 1)


def _verify_ledger(service: Service) -> dict[str, Any]:
    projection = LedgerProjection(service.store)
    projection.catch_up()
    fresh = recompute(service.store)
    saved = projection.ledger
    periods = sorted(set(fresh) | set(saved.facts.periods()) | set(saved.closed))
    mine = {p: [line_document(line) for line in saved.lines(p)] for p in periods}
    theirs = {p: [line_document(line) for line in fresh.get(p, [])] for p in periods}
    return {
        "projection": LEDGER,
        "position": projection.position,
        "saved": _digest(mine),
        "replayed": _digest(theirs),
        "differing_periods": [p for p in periods if mine[p] != theirs[p]],
    }


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@projections.command("run")
@click.argument("names", nargs=-1, type=_name_choice())
@click.option("--poll", type=click.FloatRange(0.05, 60), default=1.0, show_default=True, help="Seconds.")
@click.option("--until-head", is_flag=True, help="Stop once every projection has caught up.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.pass_context
def run_command(
    ctx: click.Context, names: tuple[str, ...], poll: float, until_head: bool, batch_size: int
) -> None:
    """Follow the store live, every projection (or the named ones) side by side."""
    service = bootstrap(ctx.obj["db"])
    chosen = list(dict.fromkeys(names)) or projection_names(service.settings)
    followers = []
    if LEDGER in chosen:
        # Supervised apart: the ledger halts on a fact it cannot fold, the read models go on.
        followers.append(Supervised(LEDGER, LedgerProjection(service.store, batch_size)))
    models = [name for name in chosen if name != LEDGER]
    if len(models) == 1:
        followers.append(Supervised(models[0], _runner(service, models[0], batch_size)))
    elif models:
        # Read models follow the store in one pass: each new event is read and decoded once for all.
        runners = [_runner(service, name, batch_size) for name in models]
        followers.append(Supervised("+".join(models), ProjectionGroup(service.store, runners, batch_size)))
    supervisor = Supervisor(followers, waiter_factory=lambda: EventWaiter(service.store))
    stderr.print(f"following {', '.join(chosen)}", style="dim")
    try:
        supervisor.run(poll, until_head=until_head)
    except KeyboardInterrupt:
        stderr.print("stopped", style="dim")
    finally:
        supervisor.close()
        service.close()
