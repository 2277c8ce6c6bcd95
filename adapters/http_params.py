"""Parameters shared by the query routes, validated where they enter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from adapters.http_problems import MEDIA_TYPE, Problem

# Years as the wire format accepts timestamps (commands.models.YEARS).
PERIOD_PATTERN = r"^(19\d{2}|2\d{3})-(0[1-9]|1[0-2])$"
PLAN_PATTERN = r"^[A-Za-z0-9_.-]+@[1-9][0-9]*$"
# An id as the wire format has it: no leading or trailing blanks, at most 200 characters.
ID_PATTERN = r"^[^\s](.*[^\s])?$"

PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="Pay period YYYY-MM.")]
MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=2**62,
        description="Answer only once the read model has folded the store up to this position "
        "(a command's `position`): read your own writes.",
    ),
]


def id_path(description: str) -> object:
    return Path(min_length=1, max_length=200, pattern=ID_PATTERN, description=description)


def id_query(description: str) -> object:
    return Query(min_length=1, max_length=200, pattern=ID_PATTERN, description=description)


def problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    described = {
        401: "No valid bearer token.",
        403: "The token's role or rows do not reach this.",
        404: "No such thing in the history.",
        422: "A parameter breaks a rule (`field`, `rule`).",
        503: "The read model did not reach `min_position` in time: retry.",
    }
    return {
        status: {"model": Problem, "description": described[status], "content": {MEDIA_TYPE: {}}}
        for status in statuses
    }


READ_PROBLEMS = problems(401, 403, 422, 503)
