"""Options every CLI command spells the same way."""

from __future__ import annotations

import click

from domain.periods import is_period

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def period_value(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not is_period(value):
        raise click.BadParameter("must be a period YYYY-MM (e.g. 2026-03)")
    return value
