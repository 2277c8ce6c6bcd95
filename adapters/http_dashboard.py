"""The dashboard: static pages and scripts under /static, reading the same API with the same tokens.

Nothing on them comes from anywhere but this process (ECharts is vendored under static/vendor), and
the pages set text, never markup, from data: the Content-Security-Policy holds both to that.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
LOGIN = "/static/index.html"
# ECharts writes inline style attributes into its tooltips: styles may be inline, scripts may not.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


class DashboardFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


@router.api_route("/", methods=["GET", "HEAD"])
def home() -> RedirectResponse:
    return RedirectResponse(LOGIN)


def install(app: FastAPI) -> None:
    app.mount("/static", DashboardFiles(directory=STATIC), name="static")
    app.include_router(router)
