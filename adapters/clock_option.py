"""`--now TIMESTAMP`: the injected clock of watchers and queries that depend on the present."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from adapters.bootstrap import system_clock


class Timestamp(click.ParamType[datetime]):
    name = "TIMESTAMP"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail("must be an ISO 8601 timestamp, e.g. 2026-03-01T00:00:00+08:00", param, ctx)
        if moment.tzinfo is None:
            self.fail("must carry a timezone, e.g. 2026-03-01T00:00:00+08:00", param, ctx)
        return moment


now_option = click.option(
    "--now",
    type=Timestamp(),
    default=None,
    help="The present, ISO 8601 with zone (default: the system clock).",
)


def now_or_system(now: datetime | None) -> datetime:
    return now if now is not None else system_clock()
