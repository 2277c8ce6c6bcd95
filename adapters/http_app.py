"""The HTTP API (`salesledger serve`): commands and queries over one service, bearer tokens with
roles, problem+json errors, and the OpenAPI document at /openapi.json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from adapters import (
    http_dashboard,
    http_problems,
    http_routes_analytics,
    http_routes_analytics_charts,
    http_routes_audit,
    http_routes_collaboration,
    http_routes_commands,
    http_routes_customers,
    http_routes_funnel,
    http_routes_ops,
    http_routes_payroll,
)
from adapters.bootstrap import Service
from adapters.cli_funnel import load_benchmarks
from adapters.http_context import Api, shared_executor
from adapters.http_directory import Directory
from adapters.http_reads import ReadSide
from adapters.tokens import TokenStore

ROUTERS = (
    http_routes_commands.router,
    http_routes_payroll.router,
    http_routes_audit.router,
    http_routes_customers.router,
    http_routes_analytics.router,
    http_routes_analytics_charts.router,
    http_routes_funnel.router,
    http_routes_collaboration.router,
    http_routes_ops.router,
)


def create_app(service: Service) -> FastAPI:
    settings = service.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Each worker thread holds at most one database connection at a time: keep them within the
        # store's connection pool, so no request waits for a connection until it times out.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.http_threads
        yield

    app = FastAPI(
        title="salesledger",
        version="1",
        summary="Event-sourced sales operations: commands, funnel, pay, audit.",
        description=(
            "Every command of the wire format is a POST to /commands, idempotent by `command_id`; its "
            "answer carries the store `position` it was written at, and every query takes "
            "`min_position` to read that write. Errors are application/problem+json naming the "
            "`field` and the `rule`. Tokens: `salesledger token create --role ROLE`."
        ),
        lifespan=lifespan,
    )
    app.state.api = Api(
        service=service,
        tokens=TokenStore(service.store),
        directory=Directory(service.store),
        reads=ReadSide(service.store, settings, settings.http_wait_seconds),
        benchmarks=load_benchmarks(settings.funnel_benchmarks),
        executor=shared_executor(service),
    )
    http_problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    http_dashboard.install(app)
    return app
