"""Customer 360 and tag suggestions: customer history, read-only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from adapters.customer_query import customer_360, suggest_tags
from adapters.http_auth import Guarded
from adapters.http_context import Api, api
from adapters.http_params import MinPosition, id_path, problems
from adapters.http_problems import NotFound, ProblemError
from adapters.tokens import Role
from commands.models import Day
from projections.customer_360 import CUSTOMER_360

router = APIRouter(prefix="/customers", tags=["customers"])
Context = Annotated[Api, Depends(api)]
CustomerPath = Annotated[str, id_path("The customer.")]
# A customer's history holds every rep's deals and orders on it: not for a rep token, whose rows are
# its own deals (GET /audit/deal/{deal_id}).
HISTORY_READERS: tuple[Role, ...] = ("presales", "manager", "auditor", "admin")


@router.get("/{customer_id}", responses=problems(401, 403, 404, 422, 503))
def customer(
    customer_id: CustomerPath,
    guard: Guarded,
    context: Context,
    since: Annotated[Day | None, Query(description="Orders signed on or after this date.")] = None,
    until: Annotated[Day | None, Query(description="Orders signed on or before this date.")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Profile, tags, contacts with their title history, deals, orders (first or repeat) in the date
    range, NPS, complaints, activity summary."""
    guard.roles(HISTORY_READERS, "customer history")
    if since is not None and until is not None and since > until:
        raise ProblemError(
            422, "invalid-request", "Invalid request", "since", f"{since} is after until {until}"
        )
    view, position = context.reads.docs(CUSTOMER_360, min_position)
    document = customer_360(view, customer_id, since, until)
    if document is None:
        raise NotFound("customer_id", f"no customer {customer_id!r} in the history")
    return {**document, "position": position}


@router.get("/{customer_id}/tag-suggestions", responses=problems(401, 403, 404, 422, 503))
def tag_suggestions(
    customer_id: CustomerPath, guard: Guarded, context: Context, min_position: MinPosition = None
) -> dict[str, Any]:
    """Tags to add, from similar customers' tags and from the customer's activity notes."""
    guard.roles(HISTORY_READERS, "customer history")
    view, position = context.reads.docs(CUSTOMER_360, min_position)
    document = suggest_tags(view, customer_id)
    if document is None:
        raise NotFound("customer_id", f"no customer {customer_id!r} in the history")
    return {**document, "position": position}
