"""`salesledger alerts check`: evaluate the threshold rules at --now and record what fired, once."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import TypeAdapter, ValidationError

from adapters.alert_check import SERVICE, command_for, evaluate, firing_document, is_recorded, latest
from adapters.bootstrap import bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_projections import caught_up
from adapters.clock_option import now_option, now_or_system
from domain.alert_rules import AlertRules, ThresholdRule

_RULES: TypeAdapter[list[ThresholdRule]] = TypeAdapter(AlertRules)


def _rules_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> list[ThresholdRule] | None:
    if value is None:
        return None
    try:
        loaded = yaml.safe_load(value.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise click.BadParameter(f"not YAML or JSON: {error}") from None
    if isinstance(loaded, dict) and "rules" in loaded:
        loaded = loaded["rules"]
    try:
        return _RULES.validate_python(loaded)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'rules'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise click.BadParameter(problems) from None


@click.group()
def alerts() -> None:
    """Threshold rules over read models (SALESLEDGER_ALERT_RULES, or --rules FILE)."""


@alerts.command("check")
@now_option
@click.option(
    "--rules",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=_rules_file,
    help="YAML or JSON list of rules (or {rules: [...]}) instead of the configured ones.",
)
@FORMAT
@click.pass_context
def check_command(
    ctx: click.Context, now: datetime | None, rules: list[ThresholdRule] | None, fmt: str
) -> None:
    """Evaluate every rule over the windows ended by --now; record each run above threshold once."""
    moment = now_or_system(now)
    service = bootstrap(ctx.obj["db"])
    reports: list[dict[str, Any]] = []
    refused = 0
    try:
        runner = caught_up(service, SERVICE)
        for rule in rules if rules is not None else service.settings.alert_rules:
            evaluation = evaluate(runner.view, rule, moment)
            fired: list[dict[str, Any]] = []
            for firing in evaluation.fired:
                status, error = "already_recorded", None
                if not is_recorded(runner.view, firing):
                    outcome = service.executor.execute(command_for(firing, moment))
                    status, error = ("recorded", None) if outcome.accepted else ("refused", outcome.error)
                    refused += int(not outcome.accepted)
                fired.append({**firing_document(firing), "status": status, "error": error})
            reports.append(
                {"rule": rule.model_dump(mode="json"), "fired": fired, "latest": latest(evaluation)}
            )
    finally:
        service.close()
    recorded = sum(1 for report in reports for f in report["fired"] if f["status"] == "recorded")
    document = {"as_of": moment.isoformat(), "recorded": recorded, "rules": reports}
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        _print(document)
    sys.exit(1 if refused else 0)


def _print(document: dict[str, Any]) -> None:
    click.echo(f"as of {document['as_of']}: {document['recorded']} new triggers recorded")
    for report in document["rules"]:
        rule = report["rule"]
        click.echo(
            f"{rule['id']}: {rule['metric']} per {rule['grouping']} and {rule['window']} "
            f"> {rule['threshold']} for {rule['consecutive']} windows -> {rule['event']}"
        )
        for fired in report["fired"]:
            values = ", ".join(
                f"{window} {_shown(rule['metric'], value)}"
                for window, value in zip(fired["windows"], fired["values"], strict=True)
            )
            suffix = f": {fired['error']}" if fired["error"] else ""
            click.echo(f"  {fired['group']}: {values} [{fired['status']}{suffix}]")


def _shown(metric: str, value: str) -> str:
    if metric == "complaint_rate":
        return f"{(Decimal(value) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)} %"
    return value
