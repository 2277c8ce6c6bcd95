"""`salesledger audit SUBJECT ID [--as-of T] [--by business|recorded]` and `salesledger audit verify`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
from rich.console import Console

from adapters.audit_entries import AGGREGATES, trail
from adapters.audit_verify import verify_chain
from adapters.bootstrap import bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_projections import caught_up
from replay.as_of import state_as_of

SUBJECTS = [*AGGREGATES, "period"]
stdout = Console()


def _timestamp(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be an ISO 8601 timestamp, e.g. 2026-03-01T00:00:00+08:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("must carry a timezone, e.g. 2026-03-01T00:00:00+08:00")
    return moment


class AuditGroup(click.Group):
    """`audit verify` is a command; anything else is `audit SUBJECT ID`."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in SUBJECTS:
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@click.group(cls=AuditGroup)
def audit() -> None:
    """Every event of a deal, customer, rep, order or period, in order; state as of any instant."""


@audit.command("show", hidden=True)
@click.argument("subject", type=click.Choice(SUBJECTS))
@click.argument("subject_id")
@click.option("--as-of", "as_of", callback=_timestamp, default=None, help="ISO timestamp with zone.")
@click.option("--by", type=click.Choice(["business", "recorded"]), default="recorded", show_default=True)
@FORMAT
@click.pass_context
def show_command(
    ctx: click.Context, subject: str, subject_id: str, as_of: datetime | None, by: str, fmt: str
) -> None:
    service = bootstrap(ctx.obj["db"])
    try:
        runner = caught_up(service, "audit")
        entries = trail(service.store, runner.view, subject, subject_id)
        if not entries:
            raise click.ClickException(f"{subject}_id: no {subject} {subject_id!r} in the history")
        state = None
        if as_of is not None:
            entries = [e for e in entries if _moment(e, by) <= as_of]
            if subject in AGGREGATES:
                aggregate_id = AGGREGATES[subject].create_id(subject_id)
                state = state_as_of(service.store, aggregate_id, as_of, by)  # type: ignore[arg-type]
    finally:
        service.close()
    document = {
        "subject": subject,
        "id": subject_id,
        "as_of": as_of.isoformat() if as_of else None,
        "by": by,
        "state": state,
        "events": entries,
    }
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    click.echo(f"{subject} {subject_id}" + (f" as of {as_of.isoformat()} ({by} time)" if as_of else ""))
    for entry in entries:
        changed = ", ".join(f"{k}={v}" for k, v in entry["changes"].items() if k != "occurred_at")
        click.echo(
            f"{entry['position']:>8}  {entry['occurred_at'] or '-':<25}  {entry['type']:<30} "
            f"{entry['actor'] or '-':<12} {changed}"
        )
    if as_of is not None:
        stdout.print_json(json.dumps(state, ensure_ascii=False) if state is not None else "null")


def _moment(entry: dict[str, Any], by: str) -> datetime:
    text = entry["occurred_at"] if by == "business" and entry["occurred_at"] else entry["recorded_at"]
    return datetime.fromisoformat(text)


@audit.command("verify")
@FORMAT
@click.pass_context
def verify_command(ctx: click.Context, fmt: str) -> None:
    """Recompute the hash chain from the stored events; name the first position that differs."""
    service = bootstrap(ctx.obj["db"])
    try:
        runner = caught_up(service, "audit")
        check = verify_chain(service.store, runner.view)
    finally:
        service.close()
    document = {
        "intact": check.intact,
        "checked": check.checked,
        "first_difference": check.first_difference,
        "detail": check.detail,
    }
    if fmt == "json":
        click.echo(json.dumps(document, indent=1))
    elif check.intact:
        click.echo(f"audit chain intact: {check.detail}")
    else:
        click.echo(f"audit chain BROKEN at position {check.first_difference}: {check.detail}")
    sys.exit(0 if check.intact else 1)
