"""`salesledger watch first-touch`: deadline watchers record what a passed deadline means, once."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
import structlog

from adapters.bootstrap import Service, bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_projections import caught_up
from adapters.clock_option import now_option, now_or_system
from commands.models import RecordFirstTouchOverdue
from projections.funnel import NAME
from projections.read_model import instant_key

log = structlog.get_logger(__name__)


def record_first_touch_overdue(service: Service, now: datetime) -> dict[str, Any]:
    """Deals the funnel read model shows waiting for a first touch past their deadline are handed to
    the Deal aggregate, which records `FirstTouchOverdue` unless the owner touched it in the meantime
    or it was recorded already: a second sweep records nothing new."""
    runner = caught_up(service, NAME)
    # Sort keys are UTC instants of one length: everything due at `now` or before sorts below this.
    waiting = [doc for _, doc in runner.view.part(NAME, "due", "open", until=f"{instant_key(now)}~")]
    recorded, refused = [], []
    for due in waiting:
        command = RecordFirstTouchOverdue(type="RecordFirstTouchOverdue", deal_id=due["deal_id"], now=now)
        outcome = service.executor.execute(command)
        if not outcome.accepted:
            refused.append({"deal_id": due["deal_id"], "error": outcome.error})
        elif outcome.position is not None:
            recorded.append(due)
            log.info("first_touch.overdue_recorded", deal_id=due["deal_id"], rep_id=due["rep"])
    runner.catch_up()
    return {
        "now": now.isoformat(),
        "checked": len(waiting),
        "recorded": [{"deal_id": d["deal_id"], "rep_id": d["rep"], "due_at": d["due_at"]} for d in recorded],
        "refused": refused,
    }


@click.group()
def watch() -> None:
    """Deadline watchers, run by a scheduler (or by hand with --now)."""


@watch.command("first-touch")
@now_option
@FORMAT
@click.pass_context
def first_touch_command(ctx: click.Context, now: datetime | None, fmt: str) -> None:
    """Record FirstTouchOverdue for every deal whose owner has not touched it by its deadline."""
    service = bootstrap(ctx.obj["db"])
    try:
        report = record_first_touch_overdue(service, now_or_system(now))
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        sys.exit(1 if report["refused"] else 0)
    click.echo(f"checked {report['checked']} deals waiting for a first touch as of {report['now']}")
    for item in report["recorded"]:
        click.echo(f"FirstTouchOverdue {item['deal_id']} (owner {item['rep_id']}, due {item['due_at']})")
    for item in report["refused"]:
        click.echo(f"refused {item['deal_id']}: {item['error']}")
    sys.exit(1 if report["refused"] else 0)
