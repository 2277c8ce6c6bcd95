"""Every error the API returns is an RFC 9457 problem document naming the field and the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, get_args

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from commands.models import AnyCommand
from domain.errors import DomainError

log = structlog.get_logger(__name__)
MEDIA_TYPE = "application/problem+json"
# Locations FastAPI puts before a field name, and the command type a discriminated union adds.
_WHERE = ("body", "query", "path", "header", "cookie")
COMMAND_TYPES = frozenset(
    model.model_fields["type"].annotation.__args__[0] for model in get_args(get_args(AnyCommand)[0])
)


class FieldProblem(BaseModel):
    field: str
    rule: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    rule: str | None = None
    errors: list[FieldProblem] | None = None
    # Gate-blocked commands: what the deal lacks, and where the blocked attempt was recorded.
    missing: list[dict[str, Any]] | None = None
    command_status: str | None = None
    position: int | None = None


class ProblemError(Exception):
    def __init__(
        self, status: int, kind: str, title: str, field: str | None, rule: str, **extra: Any
    ) -> None:
        super().__init__(f"{field}: {rule}" if field else rule)
        self.status = status
        self.kind = kind
        self.title = title
        self.field = field
        self.rule = rule
        self.extra = extra
        self.headers: dict[str, str] = {}

    def document(self) -> dict[str, Any]:
        detail = f"{self.field}: {self.rule}" if self.field else self.rule
        doc: dict[str, Any] = {
            "type": f"/problems/{self.kind}",
            "title": self.title,
            "status": self.status,
            "detail": detail,
            "field": self.field,
            "rule": self.rule,
        }
        doc.update({k: v for k, v in self.extra.items() if v is not None})
        return doc


class Forbidden(ProblemError):
    def __init__(self, field: str | None, rule: str) -> None:
        super().__init__(403, "forbidden", "Access refused", field, rule)


class Unauthenticated(ProblemError):
    def __init__(self, rule: str) -> None:
        super().__init__(401, "unauthenticated", "Authentication required", "Authorization", rule)
        self.headers = {"WWW-Authenticate": 'Bearer realm="salesledger"'}


class NotCaughtUp(ProblemError):
    def __init__(self, wanted: int, reached: int, seconds: float) -> None:
        super().__init__(
            503,
            "not-caught-up",
            "Read model behind the requested position",
            "min_position",
            f"the read model reached {reached}, not {wanted}, within {seconds:g} s: retry",
            position=reached,
        )
        self.headers = {"Retry-After": "1"}


class NoSuchPosition(ProblemError):
    def __init__(self, wanted: int, head: int) -> None:
        super().__init__(
            422,
            "no-such-position",
            "Position not written",
            "min_position",
            f"the store holds no position {wanted} (its head is {head}): pass a position a command returned",
            position=head,
        )


class NotFound(ProblemError):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(404, "not-found", "Not found", field, rule)


def split_message(message: str) -> tuple[str | None, str]:
    """`field: rule` as the domain and the parser write it."""
    field, sep, rule = message.partition(": ")
    if sep and re.fullmatch(r'[A-Za-z0-9_.\-\[\]"]+', field):
        return field, rule
    return None, message


def refused(message: str, **extra: Any) -> ProblemError:
    field, rule = split_message(message)
    return ProblemError(422, "command-refused", "Command refused", field, rule, **extra)


def field_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    problems = []
    for item in errors:
        location = [str(part) for part in item.get("loc", ())]
        if location and location[0] in _WHERE:
            location = location[1:]
        if location and location[0] in COMMAND_TYPES:
            location = location[1:]
        field = ".".join(_name(part) for part in location) or "type"
        if str(item.get("type", "")).startswith("union_tag"):
            field = "type"
        problems.append(FieldProblem(field=field, rule=str(item.get("msg", "is invalid"))))
    return problems


def _name(part: str) -> str:
    return part if re.fullmatch(r"[A-Za-z0-9_]+", part) else json.dumps(part, ensure_ascii=False)


def problem_response(problem: ProblemError) -> JSONResponse:
    return JSONResponse(
        problem.document(), status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers
    )


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ProblemError)
        return problem_response(error)

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = field_problems(error.errors())
        first = problems[0] if problems else FieldProblem(field="body", rule="is invalid")
        problem = ProblemError(
            422,
            "invalid-request",
            "Invalid request",
            first.field,
            first.rule,
            errors=[p.model_dump() for p in problems],
        )
        return problem_response(problem)

    async def on_domain(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return problem_response(ProblemError(422, "refused", "Refused", error.field, error.rule))

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        problem = ProblemError(error.status_code, "http", str(error.detail), None, str(error.detail))
        problem.headers = dict(error.headers or {})
        return problem_response(problem)

    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        log.error("http.server_error", route=request.url.path, error=f"{type(error).__name__}: {error}")
        problem = ProblemError(500, "server-error", "Internal error", None, "the server failed; it is logged")
        return problem_response(problem)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
