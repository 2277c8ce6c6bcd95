"""JSON encoders built once.

`json.JSONEncoder.encode` builds a new C encoder on every call, a cost of the order of encoding a
small object itself; the write path encodes a few small objects per command. These produce the
very same text as the matching `json.JSONEncoder` with compact separators.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Iterable
from typing import Any


def _unserializable(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def compiled_encoder(
    *, default: Callable[[Any], Any] | None = None, ensure_ascii: bool = True, sort_keys: bool = False
) -> Callable[[Any], str]:
    make: Callable[..., Callable[[Any, int], Iterable[str]]] | None = getattr(
        json.encoder, "c_make_encoder", None
    )
    if make is None:
        return json.JSONEncoder(
            default=default, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
        ).encode
    escape = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    # No circular-reference markers: what is encoded here is a tree, and a failed encoding
    # leaves nothing behind for the next one.
    chunks = make(None, default or _unserializable, escape, None, ":", ",", sort_keys, False, True)

    def encode(obj: Any) -> str:
        return "".join(chunks(obj, 0))

    return encode
