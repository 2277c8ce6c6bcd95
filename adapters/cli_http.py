"""`salesledger serve` (the HTTP API) and `salesledger token create|revoke|list`."""

from __future__ import annotations

import json
import sys

import click
import uvicorn

from adapters.bootstrap import bootstrap, system_clock
from adapters.cli_options import FORMAT
from adapters.http_app import create_app
from adapters.http_directory import Directory
from adapters.tokens import ROLES, TokenError, TokenStore


@click.command("serve")
@click.option("--host", default=None, help="Default: SALESLEDGER_HTTP_HOST (127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Default: SALESLEDGER_HTTP_PORT (8000)."
)
@click.pass_context
def serve_command(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the HTTP API: POST /commands, the queries, OpenAPI at /openapi.json and /docs."""
    service = bootstrap(ctx.obj["db"])
    try:
        app = create_app(service)
        settings = service.settings
        uvicorn.run(
            app,
            host=host or settings.http_host,
            port=port or settings.http_port,
            log_level=settings.log_level,
            access_log=settings.log_level in ("debug", "info"),
        )
    finally:
        service.close()


@click.group("token")
def token() -> None:
    """API bearer tokens: each has a role, and a rep or team for the rows it may reach."""


@token.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--rep-id", default=None, help="The rep a rep (or presales) token speaks for.")
@click.option("--team", default=None, help="The team a manager token manages.")
@FORMAT
@click.pass_context
def create_command(ctx: click.Context, role: str, rep_id: str | None, team: str | None, fmt: str) -> None:
    """Create a token; its secret is printed once, and only its SHA-256 is kept."""
    service = bootstrap(ctx.obj["db"])
    try:
        if rep_id is not None and Directory(service.store).team_of(rep_id) is None:
            raise click.ClickException(f"rep_id: no rep {rep_id!r} has been onboarded")
        principal, secret = TokenStore(service.store).create(role, rep_id, team, system_clock())
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps({**principal.as_json(), "token": secret}, indent=1))
        return
    scope = principal.rep_id or principal.team or "every row"
    click.echo(f"{principal.token_id} ({principal.role}, {scope})", err=True)
    click.echo(secret)


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def revoke_command(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by its id: every later request with it is refused (401)."""
    service = bootstrap(ctx.obj["db"])
    try:
        revoked = TokenStore(service.store).revoke(token_id, system_clock())
    finally:
        service.close()
    if not revoked:
        raise click.ClickException(f"token_id: no live token {token_id!r}")
    click.echo(f"revoked {token_id}")


@token.command("list")
@FORMAT
@click.pass_context
def list_command(ctx: click.Context, fmt: str) -> None:
    """Every token: id, role, rep or team, when created and revoked (never the secret)."""
    service = bootstrap(ctx.obj["db"])
    try:
        tokens = TokenStore(service.store).all()
    finally:
        service.close()
    if fmt == "json":
        click.echo(json.dumps([t.as_json() for t in tokens], indent=1))
        return
    for t in tokens:
        state = f"revoked {t.revoked_at}" if t.revoked_at else "live"
        click.echo(f"{t.token_id}  {t.role:<9} {t.rep_id or t.team or '-':<16} {t.created_at}  {state}")
    sys.stdout.flush()
