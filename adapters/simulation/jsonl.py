"""Writing commands as JSON Lines, the bulk-import format."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TextIO

# One encoder for the whole stream: same output as json.dumps with these options, without
# building a new encoder per line.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_BATCH = 2048


def write_jsonl(commands: Iterable[Mapping[str, object]], stream: TextIO) -> int:
    """Write one compact JSON object per line; returns how many were written."""
    count = 0
    batch: list[str] = []
    for command in commands:
        batch.append(_ENCODE(command))
        if len(batch) == _BATCH:
            stream.write("\n".join(batch) + "\n")
            count += len(batch)
            batch.clear()
    if batch:
        stream.write("\n".join(batch) + "\n")
        count += len(batch)
    return count
