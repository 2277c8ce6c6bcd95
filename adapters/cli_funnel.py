"""`salesledger funnel` (funnel health per stage, team or rep) and `salesledger quality` (action quality)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.bootstrap import Service, bootstrap
from adapters.cli_options import FORMAT, period_value
from adapters.cli_projections import caught_up
from adapters.clock_option import now_option, now_or_system
from adapters.config_files import ConfigError, load_config
from adapters.read_models import read_models
from projections.action_quality import action_quality
from projections.customer_360 import CUSTOMER_360
from projections.funnel import NAME
from projections.funnel_benchmarks import Benchmarks
from projections.funnel_report import funnel_health

stdout = Console()
if not stdout.is_terminal:
    # Piped or captured: wide enough for the funnel table rather than rich's 80 columns.
    stdout = Console(width=140)


PERIOD = click.option("--period", required=True, callback=period_value, help="Period YYYY-MM.")


def load_benchmarks(setting: str | None) -> Benchmarks:
    """From a JSON object, or the path of a YAML or JSON file; unset gives the defaults. Raises
    ConfigError naming the setting, the field and the rule."""
    if not setting:
        return Benchmarks()
    what = "funnel benchmarks (SALESLEDGER_FUNNEL_BENCHMARKS)"
    if not setting.lstrip().startswith("{"):
        return load_config(Path(setting), Benchmarks, what)
    try:
        return Benchmarks.model_validate(json.loads(setting))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{what}: not valid JSON: {error}") from None
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False)]
        raise ConfigError(f"{what}: {'; '.join(problems)}") from None


@click.command("funnel")
@PERIOD
@click.option("--by", type=click.Choice(["team", "rep"]), default=None, help="Default: the whole funnel.")
@now_option
@FORMAT
@click.pass_context
def funnel_command(ctx: click.Context, period: str, by: str | None, now: datetime | None, fmt: str) -> None:
    """Funnel health for a period: entered, advanced, regressed, lost, conversion, time in stage,
    stalled and blocked deals per stage, and first-touch follow-up; worse than benchmark is flagged."""
    service = bootstrap(ctx.obj["db"])
    try:
        try:
            benchmarks = load_benchmarks(service.settings.funnel_benchmarks)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        view = caught_up(service, NAME).view
        report = funnel_health(view, period, by, benchmarks, now_or_system(now))
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    _print_funnel(report)


def _mark(value: Any, flagged: bool, digits: str = "") -> str:
    text = "-" if value is None else format(value, digits)
    return f"[bold red]{text} ![/]" if flagged else text


def _print_funnel(report: dict[str, Any]) -> None:
    grouped = report["by"] != "all"
    table = Table(title=f"Funnel {report['period']} (stalled as of {report['stalled_as_of']})")
    columns = [
        "stage",
        "entered",
        "adv",
        "regr",
        "lost",
        "conv",
        "mean h",
        "p50 h",
        "p90 h",
        "stalled",
        "blocked",
    ]
    for name in [report["by"]] * grouped + columns:
        table.add_column(name, justify="left" if name in ("stage", report["by"]) else "right")
    blocked = []
    for row in report["stages"]:
        flags, hours = row["flags"], row["time_in_stage_hours"]
        cells = [
            row["stage"],
            *(str(row[field]) for field in ("entered", "advanced", "regressed", "lost")),
            _mark(row["conversion"], "conversion" in flags, ".0%"),
            _mark(hours["mean"], "time_in_stage" in flags, ".1f"),
            _mark(hours["p50"], False, ".1f"),
            _mark(hours["p90"], False, ".1f"),
            _mark(row["stalled"], "stalled" in flags),
            str(row["blocked"]),
        ]
        table.add_row(*([escape(row["group"])] * grouped + cells))
        if row["missing"]:
            missing = ", ".join(f"{item} x{n}" for item, n in row["missing"].items())
            where = f"{row['group']}, " if grouped else ""
            blocked.append(f"  into {row['stage']} ({escape(where)}{row['blocked']}): {missing}")
    stdout.print(table)
    if blocked:
        stdout.print("Blocked moves, missing:\n" + "\n".join(blocked))
    follow = Table(title=f"First-touch follow-up {report['period']}")
    for name in ("group", "assigned", "in SLA", "late", "untouched", "withdrawn", "overdue", "rate"):
        follow.add_column(name, justify="left" if name == "group" else "right")
    for row in report["follow_up"]:
        follow.add_row(
            escape(row["group"]),
            *(str(row[f]) for f in ("assigned", "touched_within_sla", "touched_late", "untouched")),
            *(str(row[f]) for f in ("withdrawn", "overdue_recorded")),
            _mark(row["rate"], bool(row["flags"]), ".0%"),
        )
    stdout.print(follow)
    stdout.print("[bold red]![/] worse than benchmark", style="dim")


@click.command("quality")
@PERIOD
@click.option("--rep", "rep_id", default=None, help="One rep (default: every rep).")
@FORMAT
@click.pass_context
def quality_command(ctx: click.Context, period: str, rep_id: str | None, fmt: str) -> None:
    """Monthly action quality per rep: activities against the role's template, blocked moves and what
    they lacked, time in stage against the team, action tags seen."""
    service = bootstrap(ctx.obj["db"])
    try:
        view = caught_up(service, NAME).view
        reps = dict(view.kind(NAME, "rep"))
        if rep_id is not None:
            if rep_id not in reps:
                raise click.ClickException(f"rep_id: unknown rep {rep_id!r}")
            reps = {rep_id: reps[rep_id]}
        tags = _tags_seen(service, reps, period)
        report = action_quality(view, period, reps, tags)
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    _print_quality(report)


def _tags_seen(service: Service, reps: Iterable[str], period: str) -> dict[str, Counter[str]]:
    """Action tags on the rep's activities of the period, as the customer-360 read model reads them
    from notes and transcripts; a service without that read model has none to show."""
    if CUSTOMER_360 not in read_models(service.settings):
        return {}
    view = caught_up(service, CUSTOMER_360).view
    seen: dict[str, Counter[str]] = {}
    for rep in reps:
        doc = view.get(CUSTOMER_360, "rep_tags", f"{rep}:{period}")
        if doc is not None:
            seen[rep] = Counter(doc["tags"])
    return seen


def _print_quality(report: dict[str, Any]) -> None:
    stdout.print(f"Action quality {report['period']} (gate policy v{report['policy_version']})")
    for row in report["reps"]:
        stdout.print(f"\n[bold]{escape(row['rep'])}[/] ({escape(row['team'])}, {escape(row['role'])})")
        kinds = ", ".join(f"{kind} {n}" for kind, n in row["activities"].items()) or "none"
        stdout.print(f"  activities: {kinds} on {row['deals_worked']} deals")
        for t in row["template"]:
            per_worked = "-" if t["per_deal_worked"] is None else t["per_deal_worked"]
            flag = " [bold red]![/]" if t["flagged"] else ""
            stdout.print(
                f"  template {t['kind']}: {t['required_per_deal']} per deal, {per_worked} per deal worked; "
                f"{t['deals_meeting_template']}/{t['deals_passing_stage']} deals passing {t['stage']} "
                f"met it{flag}"
            )
        missing = ", ".join(f"{item} x{n}" for item, n in row["missing"].items())
        blocked = f"  moves {row['stage_moves']}, blocked {row['blocked_moves']}"
        stdout.print(blocked + (f" ({missing})" if missing else ""))
        for s in row["time_in_stage"]:
            flag = " [bold red]slower than team[/]" if s["slower_than_team"] else ""
            stdout.print(
                f"  {s['stage']}: {s['mean_hours']} h mean over {s['stays']} stays "
                f"(team {s['team_mean_hours']} h){flag}"
            )
        if row["tags"]:
            stdout.print("  tags: " + ", ".join(f"{tag} {n}" for tag, n in row["tags"].items()))
