from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from commands.json_codec import compiled_encoder
from commands.models import AnyCommand

_ADAPTER: TypeAdapter[AnyCommand] = TypeAdapter(AnyCommand)
# The text of json.dumps(payload, sort_keys=True, separators=(",", ":")), so fingerprints stored in
# receipts keep matching.
_CANONICAL = compiled_encoder(sort_keys=True)


class InvalidCommand(ValueError):
    """Input that is not a well-formed command; the message names each field and rule."""


def parse_command(data: object) -> AnyCommand:
    if not isinstance(data, dict):
        raise InvalidCommand("command: must be a JSON object with a 'type'")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as error:
        raise InvalidCommand(describe_validation_error(error, data)) from None


def parse_json_line(line: str) -> AnyCommand:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidCommand(f"json: malformed JSON at column {error.colno}: {error.msg}") from None
    return parse_command(data)


def describe_validation_error(error: ValidationError, data: dict[str, Any]) -> str:
    tag = data.get("type")
    problems = []
    for item in error.errors(include_url=False):
        location = list(item["loc"])
        # The discriminated union prefixes locations with the command type: drop it.
        if location and location[0] == tag:
            location = location[1:]
        field = ".".join(_field_name(part) for part in location) or "type"
        problems.append(f"{field}: {item['msg']}")
    return "; ".join(problems)


def _field_name(part: object) -> str:
    # Unexpected keys are shown quoted, so a key like "" or "\n" still reads as a field name.
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_]+", text) else json.dumps(text, ensure_ascii=False)


def fingerprint(command: AnyCommand) -> str:
    payload = command.model_dump(mode="json", exclude={"command_id"}, by_alias=True)
    canonical = _CANONICAL(payload)
    return hashlib.sha256(canonical.encode()).hexdigest()
