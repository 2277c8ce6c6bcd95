"""`salesledger whatif|attribution|heatmap|flows|diagnosis`: analytics computed from the event history,
read-only. Each folds what it needs from the store (progress on stderr), then answers as JSON
(`--format json`) or as readable tables."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import click
import yaml
from pydantic import ValidationError
from rich.console import Console

from adapters.analytics_output import (
    HEAT_METRICS,
    attribution_view,
    diagnosis_view,
    flows_view,
    heatmap_view,
    whatif_rows,
    whatif_view,
)
from adapters.bootstrap import bootstrap
from adapters.cli_options import period_value
from adapters.cli_progress import position_bar
from adapters.settings import Settings
from domain.errors import DomainError
from domain.plan import Plan
from domain.stages import FUNNEL, Stage
from projections.deal_journeys import Journeys
from projections.ledger import Ledger
from replay.attribution_rules import Rules
from replay.deal_features import feature_table
from replay.diagnosis import Benchmarks, diagnose
from replay.flows import DEFAULT_BANDS, SOURCES, Source, flows
from replay.heatmap import EffortHours, heatmap
from replay.journeys import fold_journeys
from replay.recompute import fold
from replay.sweep_grid import SweepError, grid, parse_axis, variant
from replay.whatif import Base, Sweep, parse_periods, run_sweep

stdout = Console()
if not stdout.is_terminal:
    # Piped or captured: wide enough for a sweep or a heat map rather than rich's 80 columns.
    stdout = Console(width=160)
T = TypeVar("T")


def _format(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--format", "fmt", type=click.Choice(choices), default="text", show_default=True)


def _emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=1))


def _periods(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        return parse_periods(value)
    except SweepError as error:
        raise click.BadParameter(str(error)) from None


PERIODS = click.option(
    "--periods", default=None, callback=_periods, help="FROM..TO (inclusive, YYYY-MM) or one period."
)


def _folded(ctx: click.Context, fold_with: Callable[..., T], what: str) -> T:
    service = bootstrap(ctx.obj["db"])
    try:
        with position_bar(f"folding {what}") as advance:
            return fold_with(service.store, on_progress=advance)
    finally:
        service.close()


def _journeys(ctx: click.Context) -> Journeys:
    return _folded(ctx, fold_journeys, "deal journeys")


# -- what-if -------------------------------------------------------------------------------------


def _plan_file(plan: str) -> Plan | None:
    """The plan document in the file PLAN names (YAML or JSON), or None when PLAN is no file."""
    path = Path(plan)
    if plan == "live" or not path.is_file():
        return None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise click.ClickException(f"PLAN: {plan} is not valid YAML or JSON: {error}") from None
    try:
        return Plan.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'plan'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise click.ClickException(f"PLAN: {plan} is not a valid plan: {problems}") from None


def _base(plan: str, from_file: Plan | None, ledger: Ledger) -> Base:
    """`live` (each period's own plan), a plan file, or a published NAME@VERSION."""
    if plan == "live":
        return "live"
    if from_file is not None:
        return from_file
    if "@" not in plan:
        raise click.ClickException(f"PLAN: {plan} is neither a file, a published NAME@VERSION nor 'live'")
    try:
        return ledger.facts.plan(plan)
    except DomainError as error:
        raise click.ClickException(f"PLAN: {error}") from None


@click.command("whatif")
@click.argument("plan")
@click.option("--periods", "periods_text", required=True, help="FROM..TO (inclusive, YYYY-MM) or one period.")
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    help="FIELD=FROM..TO:STEP over a numeric plan term, e.g. bonuses[0].rate=0.4%..1.2%:0.1%; "
    "several --sweep make a grid.",
)
@click.option(
    "--threshold", type=float, default=5.0, show_default=True, help="A rep 'moves' past this % change."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes over periods (default: by the size of the work; results are identical).",
)
@click.option("--rows", type=click.Choice(["points", "reps"]), default="points", show_default=True)
@_format("text", "json", "csv")
@click.pass_context
def whatif_command(
    ctx: click.Context,
    plan: str,
    periods_text: str,
    sweeps: tuple[str, ...],
    threshold: float,
    workers: int | None,
    rows: str,
    fmt: str,
) -> None:
    """Pay for the periods under PLAN (a YAML/JSON plan file, a published NAME@VERSION, or `live`: each
    period's own plan), at every point of the --sweep grid, against what the live ledger pays; computed
    in a sandbox that writes nothing."""
    from_file = _plan_file(plan)
    try:
        periods = parse_periods(periods_text)
        axes = [parse_axis(text) for text in sweeps]
        points = grid(axes)
        # A plan file's variants are checked before the history is read, which can take minutes.
        if from_file is not None:
            for point in points:
                variant(from_file, point)
    except SweepError as error:
        raise click.ClickException(str(error)) from None
    ledger = _folded(ctx, fold, "pay history")
    sweep = Sweep(_base(plan, from_file, ledger), periods, axes, Decimal(str(threshold)))
    try:
        with position_bar("computing periods") as advance:
            document = run_sweep(ledger, sweep, workers, cpus=os.cpu_count() or 1, on_progress=advance)
    except (SweepError, DomainError) as error:
        raise click.ClickException(str(error)) from None
    if fmt == "json":
        _emit_json(document)
    elif fmt == "csv":
        data = whatif_rows(document, rows)
        writer = csv.DictWriter(sys.stdout, fieldnames=list(data[0]) if data else ["payout"])
        writer.writeheader()
        writer.writerows(data)
    else:
        stdout.print(whatif_view(document, rows))


# -- attribution ---------------------------------------------------------------------------------


@click.command("attribution")
@click.option(
    "--at-stage",
    type=click.Choice([stage.value for stage in FUNNEL]),
    default=Stage.QUOTATION.value,
    show_default=True,
    help="Compare closed deals as they were when they first reached this stage.",
)
@click.option("--features", default=None, help="Comma-separated subset of the features to model.")
@click.option(
    "--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True
)
@click.option("--min-deals", type=click.IntRange(1), default=Rules.min_deals, show_default=True)
@click.option(
    "--events-per-parameter",
    type=click.FloatRange(1),
    default=Rules.events_per_parameter,
    show_default=True,
    help="Least deals of the rarer outcome per estimated parameter.",
)
@_format("text", "json")
@click.pass_context
def attribution_command(
    ctx: click.Context,
    at_stage: str,
    features: str | None,
    alpha: float,
    min_deals: int,
    events_per_parameter: float,
    fmt: str,
) -> None:
    """Which factors drive wins, and by how much: odds ratios of winning with 95 % intervals from a
    logistic regression over closed deals, Holm-adjusted; refused when the data is too thin."""
    # statsmodels brings scipy in (seconds of start-up): loaded only when attribution is asked for,
    # so that every other command of the CLI starts fast.
    from replay.attribution import attribute  # noqa: PLC0415

    table = feature_table(_journeys(ctx), Stage(at_stage))
    rules = Rules(alpha=alpha, min_deals=min_deals, events_per_parameter=events_per_parameter)
    only = None if features is None else [name.strip() for name in features.split(",") if name.strip()]
    try:
        document = attribute(table, rules, only)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if fmt == "json":
        _emit_json(document)
    else:
        stdout.print(attribution_view(document))


# -- heat map, flows -----------------------------------------------------------------------------


def _hours(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Decimal]:
    hours = {}
    for item in values:
        key, sep, value = item.partition("=")
        try:
            hours[key.strip()] = Decimal(value)
        except InvalidOperation:
            sep = ""
        if not sep:
            raise click.BadParameter(f"{item!r}: expected KIND=HOURS, e.g. demo=3 or review=1.5")
    return hours


@click.command("heatmap")
@PERIODS
@click.option("--metric", type=click.Choice(HEAT_METRICS), default=HEAT_METRICS[0], show_default=True)
@click.option(
    "--hours",
    multiple=True,
    callback=_hours,
    help="Standard presales hours: KIND=HOURS per activity kind, review=HOURS per requirement review.",
)
@_format("text", "json")
@click.pass_context
def heatmap_command(
    ctx: click.Context, periods: list[str] | None, metric: str, hours: dict[str, Decimal], fmt: str
) -> None:
    """Investment (activities, presales hours) against return (margin) of closed deals, by industry x
    region x product line."""
    try:
        effort = EffortHours().with_overrides(hours)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    document = heatmap(_journeys(ctx), periods, effort)
    if fmt == "json":
        _emit_json(document)
    else:
        stdout.print(heatmap_view(document, metric))


def _bands(ctx: click.Context, param: click.Parameter, value: str) -> list[Decimal]:
    try:
        bands = [Decimal(part) for part in value.split(",") if part.strip()]
    except InvalidOperation:
        raise click.BadParameter(f"{value!r}: expected margin edges like 50000,200000") from None
    return bands


@click.command("flows")
@click.option("--by", type=click.Choice(SOURCES), default="team", show_default=True, help="The source level.")
@PERIODS
@click.option(
    "--bands",
    default=",".join(str(edge) for edge in DEFAULT_BANDS),
    show_default=True,
    callback=_bands,
    help="Margin band edges for the last level.",
)
@_format("text", "json")
@click.pass_context
def flows_command(
    ctx: click.Context, by: str, periods: list[str] | None, bands: list[Decimal], fmt: str
) -> None:
    """Sankey data: deals (opened in --periods) from source to furthest stage to outcome to margin."""
    try:
        document = flows(_journeys(ctx), cast(Source, by), periods, bands)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if fmt == "json":
        _emit_json(document)
    else:
        stdout.print(flows_view(document))


# -- diagnosis -----------------------------------------------------------------------------------


def load_diagnosis_benchmarks(source: str | None) -> Benchmarks:
    """From a JSON object or the path of a YAML/JSON file; none gives the defaults."""
    if not source:
        return Benchmarks()
    what = "diagnosis benchmarks"
    try:
        if source.lstrip().startswith("{"):
            config = json.loads(source)
        else:
            config = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise click.ClickException(f"{what}: cannot read {source}: {error}") from None
    if not isinstance(config, dict):
        raise click.ClickException(f"{what}: expected a mapping (stages, first_touch_rate, min_sample, ...)")
    try:
        return Benchmarks.from_config(config)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False)]
        raise click.ClickException(f"{what}: {'; '.join(problems)}") from None
    except ValueError as error:
        raise click.ClickException(f"{what}: {error}") from None


@click.command("diagnosis")
@click.option("--period", required=True, callback=period_value, help="The month diagnosed, YYYY-MM.")
@click.option("--team", "teams", multiple=True, help="Only these teams (default: every team).")
@click.option(
    "--against",
    type=click.Choice(["config", "org"]),
    default="config",
    show_default=True,
    help="Configured benchmarks, or the whole organisation's figures for the month.",
)
@click.option(
    "--benchmarks",
    "benchmarks_source",
    default=None,
    help="YAML/JSON file or JSON object: stages.<stage>.days|conversion, first_touch_rate, min_sample, "
    "min_gap, top (default: SALESLEDGER_DIAGNOSIS_BENCHMARKS, else the built-in benchmarks).",
)
@click.option("--top", type=click.IntRange(1), default=None, help="Gaps per team (default 3).")
@_format("text", "json")
@click.pass_context
def diagnosis_command(
    ctx: click.Context,
    period: str,
    teams: tuple[str, ...],
    against: str,
    benchmarks_source: str | None,
    top: int | None,
    fmt: str,
) -> None:
    """Per team, the three measured gaps with the largest impact in the month, as sentences with their
    numbers against the benchmark."""
    benchmarks = load_diagnosis_benchmarks(benchmarks_source or Settings().diagnosis_benchmarks)
    if top is not None:
        benchmarks = benchmarks.model_copy(update={"top": top})
    chosen = cast(Literal["config", "org"], against)
    document = diagnose(_journeys(ctx), period, benchmarks, chosen, teams or None)
    if fmt == "json":
        _emit_json(document)
    else:
        stdout.print(diagnosis_view(document))


ANALYTICS_COMMANDS = (whatif_command, attribution_command, heatmap_command, flows_command, diagnosis_command)
