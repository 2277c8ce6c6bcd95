"""Who am I, is the service up, and how far behind are the read models."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from adapters.http_auth import Caller, Guarded
from adapters.http_context import Api, api
from adapters.http_params import READ_PROBLEMS, problems

router = APIRouter(tags=["ops"])
Context = Annotated[Api, Depends(api)]


@router.get("/health")
def health(context: Context) -> dict[str, Any]:
    """Up, and where the store's head is; no token needed."""
    return {"status": "ok", "head": context.service.store.recorder.max_notification_id() or 0}


@router.get("/whoami", responses=problems(401))
def whoami(principal: Caller) -> dict[str, Any]:
    """The role and rows of the token this request carries."""
    return principal.as_json()


@router.get("/projections", responses=READ_PROBLEMS)
def projections_status(guard: Guarded, context: Context) -> dict[str, Any]:
    """Each projection's saved position against the store's head, and its parked events."""
    guard.roles(("auditor", "admin"), "projection status")
    return {"projections": context.reads.status()}
