"""POST /commands: any command of the wire format, idempotent by `command_id`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, RootModel

from adapters.http_auth import Guarded
from adapters.http_command_access import CommandAccess
from adapters.http_context import Api, api
from adapters.http_problems import MEDIA_TYPE, Problem, ProblemError, refused, split_message
from commands.executor import CommandRetriesExhausted, Outcome
from commands.models import AnyCommand
from commands.store import EventStore
from domain.deal import Deal

router = APIRouter(tags=["commands"])
BLOCKED_TOPIC = "domain.deal:Deal.StageMoveBlocked"


class CommandBody(RootModel[AnyCommand]):
    """One command: an object with `type` and that type's fields (see DESIGN.md, "Commands")."""


class Accepted(BaseModel):
    status: Literal["applied", "duplicate"]
    # Where the command was written (a duplicate: the store's head, at or after the first write).
    # Pass it as `min_position` to any query to read this write.
    position: int
    command_id: str | None = None


def _problem(status: int, description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {MEDIA_TYPE: {}}}


@router.post(
    "/commands",
    status_code=201,
    response_model=Accepted,
    responses={
        200: {"model": Accepted, "description": "A repeated command_id: acknowledged, not applied again."},
        401: _problem(401, "No valid bearer token."),
        403: _problem(403, "The token's role or rows do not allow this command."),
        409: _problem(409, "Refused by a funnel gate; the blocked attempt is recorded (`missing`)."),
        422: _problem(422, "Not a well-formed command, or refused by a rule (`field`, `rule`)."),
        503: _problem(503, "Still conflicting with concurrent writers after every retry."),
    },
)
def post_command(
    body: CommandBody, response: Response, guard: Guarded, context: Annotated[Api, Depends(api)]
) -> Accepted:
    command = body.root
    CommandAccess(guard, context.directory).check(command)
    try:
        outcome = context.executor.execute(command)
    except CommandRetriesExhausted as error:
        problem = ProblemError(503, "write-conflict", "Write conflict", None, str(error))
        problem.headers = {"Retry-After": "1"}
        raise problem from error
    return _answer(context.service.store, command, outcome, response)


def _answer(store: EventStore, command: AnyCommand, outcome: Outcome, response: Response) -> Accepted:
    if outcome.status == "refused":
        raise refused(outcome.error or "command: refused", command_status="refused")
    if outcome.status == "blocked" or (outcome.status == "duplicate" and outcome.error is not None):
        field, rule = split_message(outcome.error or "")
        position = outcome.position if outcome.position is not None else _head(store)
        missing = _missing(store, command, position) if outcome.status == "blocked" else None
        raise ProblemError(
            409,
            "gate-blocked",
            "Blocked by a funnel gate",
            field,
            rule,
            missing=missing,
            command_status=outcome.status,
            position=position,
        )
    if outcome.status == "duplicate":
        response.status_code = 200
        return Accepted(status="duplicate", position=_head(store), command_id=command.command_id)
    assert outcome.position is not None
    return Accepted(status="applied", position=outcome.position, command_id=command.command_id)


def _head(store: EventStore) -> int:
    return store.recorder.max_notification_id() or 0


def _missing(store: EventStore, command: Any, position: int) -> list[dict[str, Any]] | None:
    """What the deal lacked, from the StageMoveBlocked event this command just recorded."""
    deal = Deal.create_id(command.deal_id)
    # One command's events are written together, so the blocked attempt sits just before its position.
    notes = store.recorder.select_notifications(
        start=max(1, position - 8), limit=16, stop=position, topics=(BLOCKED_TOPIC,)
    )
    for note in reversed(notes):
        if note.originator_id == deal:
            missing: list[dict[str, Any]] = list(store.mapper.to_domain_event(note).missing)  # type: ignore[attr-defined]
            return missing
    return None
