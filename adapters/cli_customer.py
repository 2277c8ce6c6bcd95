"""`salesledger customer ID [--since D] [--until D] [--format json]` and `customer ID --suggest-tags`."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, cast

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.bootstrap import bootstrap
from adapters.cli_options import FORMAT
from adapters.cli_progress import stderr
from adapters.cli_projections import caught_up
from adapters.config_files import ConfigError
from adapters.customer_query import customer_360, suggest_tags
from projections.customer_360 import CUSTOMER_360, Customer360

stdout = Console()


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} must be a date, e.g. 2026-03-01") from None


@click.command("customer")
@click.argument("customer_id")
@click.option("--since", callback=_day, default=None, help="Orders signed on or after this date.")
@click.option("--until", callback=_day, default=None, help="Orders signed on or before this date.")
@click.option(
    "--suggest-tags", "suggest", is_flag=True, help="Tags to add, from similar customers and from notes."
)
@FORMAT
@click.pass_context
def customer_command(
    ctx: click.Context,
    customer_id: str,
    since: date | None,
    until: date | None,
    suggest: bool,
    fmt: str,
) -> None:
    """A customer's 360: profile, contacts, tags, deals, orders (first or repeat), NPS, complaints."""
    if since is not None and until is not None and since > until:
        raise click.BadParameter(f"{since} is after --until {until}", param_hint="--since")
    service = bootstrap(ctx.obj["db"])
    try:
        try:
            runner = caught_up(service, CUSTOMER_360)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        _warn_if_rules_changed(cast("Customer360", runner.model))
        document = (
            suggest_tags(runner.view, customer_id)
            if suggest
            else customer_360(runner.view, customer_id, since, until)
        )
    finally:
        service.close()
    if document is None:
        raise click.ClickException(f"customer_id: no customer {customer_id!r} in the history")
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    elif suggest:
        _print_suggestions(document)
    else:
        _print_customer(document)


def _warn_if_rules_changed(model: Customer360) -> None:
    if model.rules_in_use is not None and model.rules_in_use != model.rules_now:
        stderr.print(
            "customer360 was built with other tag rules than the ones configured now: run "
            "`salesledger projections rebuild customer360` to read the whole history with them",
            style="yellow",
        )


def _when(text: str | None) -> str:
    return "-" if text is None else datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")


def _print_customer(doc: dict[str, Any]) -> None:
    stdout.print(
        f"[bold]{escape(doc['name'])}[/] ({escape(doc['customer_id'])}) — {escape(doc['industry'])}, "
        f"{escape(doc['region'])}; registered {_when(doc['registered_at'])}"
    )
    stdout.print("tags: " + (escape(", ".join(doc["tags"])) or "none"))

    contacts = Table("contact", "title", "title history", "status", title="Contacts", title_justify="left")
    for c in doc["contacts"]:
        history = " → ".join(f"{t['title']} ({t['since'][:10]})" for t in c["titles"])
        status = f"left {c['left_at'][:10]}" if c["left_company"] else "current"
        contacts.add_row(escape(c["name"]), escape(c["title"]), escape(history), status)
    stdout.print(contacts if doc["contacts"] else "contacts: none")

    deals = Table(
        "deal", "owner", "stage", "expected", "opened", "won / lost", title="Deals", title_justify="left"
    )
    for d in doc["deals"]:
        closed = _when(d["won_at"]) if d["won_at"] else (_when(d["lost_at"]) if d["lost_at"] else "-")
        if d["lost_reason"]:
            closed += f" ({d['lost_reason']})"
        deals.add_row(
            escape(d["deal_id"]), escape(d["owner_rep_id"]), d["stage"], d["expected_amount"],
            _when(d["opened_at"]), escape(closed),
        )  # fmt: skip
    stdout.print(deals if doc["deals"] else "deals: none")

    summary, history = doc["orders"], doc["order_history"]
    stdout.print(
        f"orders: {summary['count']} ({summary['first']} first, {summary['repeat']} repeat, "
        f"{summary['cancelled']} cancelled); standing amount {summary['amount']}, margin "
        f"{summary['gross_margin']}; last signed {summary['last_signed_on'] or '-'}"
    )
    if history["orders"]:
        span = ""
        if history["since"] or history["until"]:
            span = f" signed {history['since'] or '...'} to {history['until'] or '...'}"
        columns = ("signed", "order", "deal", "amount", "margin", "", "")
        orders = Table(*columns, title=f"Orders{span}", title_justify="left")
        for o in history["orders"]:
            orders.add_row(
                o["signed_on"], escape(o["order_id"]), escape(o["deal_id"]), o["amount"], o["gross_margin"],
                "first" if o["first_order"] else "repeat",
                f"cancelled {o['cancelled_at'][:10]}" if o["cancelled"] else "",
            )  # fmt: skip
        stdout.print(orders)

    nps = doc["nps"]
    if nps["count"]:
        scores = ", ".join(f"{s['score']} ({s['occurred_at'][:10]})" for s in nps["scores"])
        stdout.print(f"NPS: mean {nps['mean']}, net {nps['net']} over {nps['count']} scores: {scores}")
    else:
        stdout.print("NPS: no scores")
    stdout.print(f"complaints: {len(doc['complaints'])}")
    for complaint in doc["complaints"]:
        stdout.print(f"  {complaint['occurred_at'][:10]}  {escape(complaint['note'])}")
    activities = doc["activities"]
    tags = ", ".join(f"{tag} x{n}" for tag, n in activities["action_tags"].items()) or "none"
    stdout.print(
        f"activities: {activities['count']}, last {_when(activities['last_at'])}; action tags: {tags}"
    )


def _print_suggestions(doc: dict[str, Any]) -> None:
    stdout.print(
        f"[bold]{escape(doc['name'])}[/] ({escape(doc['customer_id'])}) — {escape(doc['industry'])}, "
        f"{escape(doc['region'])}; tags: {escape(', '.join(doc['tags'])) or 'none'}"
    )
    if not doc["suggestions"]:
        stdout.print("no tag to suggest")
        return
    table = Table("tag", "score", "because", title="Suggested tags", title_justify="left")
    for s in doc["suggestions"]:
        table.add_row(escape(s["tag"]), f"{s['score']:.2f}", escape("\n".join(s["because"])))
    stdout.print(table)
