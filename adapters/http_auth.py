"""Bearer-token authentication, and the one place a refused access is turned into a 403 and logged."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.http_context import Api, api
from adapters.http_problems import Forbidden, Unauthenticated
from adapters.tokens import Principal, Role

_bearer = HTTPBearer(auto_error=False, description="A token from `salesledger token create`.")


def _refusal(request: Request, status: int, reason: str, principal: Principal | None) -> None:
    # A logger per refusal, not one cached at import: the record goes to whatever sink is configured
    # now (a test's capture included), and refusals are few.
    structlog.get_logger(__name__).warning(
        "http.access_refused",
        status=status,
        method=request.method,
        route=request.url.path,
        token_id=principal.token_id if principal else None,
        role=principal.role if principal else None,
        rep_id=principal.rep_id if principal else None,
        team=principal.team if principal else None,
        reason=reason,
    )


def authenticated(
    request: Request,
    context: Annotated[Api, Depends(api)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        reason = "send 'Authorization: Bearer <token>'"
        _refusal(request, 401, reason, None)
        raise Unauthenticated(reason)
    principal = context.tokens.verify(credentials.credentials)
    if principal is None:
        reason = "the token is unknown or revoked"
        _refusal(request, 401, reason, None)
        raise Unauthenticated(reason)
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(authenticated)]


class Guard:
    """Refusals for one request: each one is logged with who asked, the route and the reason."""

    def __init__(self, request: Request, principal: Principal) -> None:
        self.request = request
        self.principal = principal

    def refuse(self, field: str | None, rule: str) -> Forbidden:
        _refusal(self.request, 403, f"{field}: {rule}" if field else rule, self.principal)
        return Forbidden(field, rule)

    def roles(self, allowed: tuple[Role, ...], what: str) -> None:
        if self.principal.role not in allowed:
            raise self.refuse(
                "role", f"{what} is for {', '.join(allowed)}; this token is {self.principal.role}"
            )


def guard(request: Request, principal: Caller) -> Guard:
    return Guard(request, principal)


Guarded = Annotated[Guard, Depends(guard)]
