from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

# Business ids are stable strings chosen by the sales org; aggregates need UUIDs.
# Deriving one from the other keeps lookups free of an index and replays reproducible.
NAMESPACE = UUID("6f1c2a8e-2b0d-5a43-9c57-1d6a1e0c5a11")


@lru_cache(maxsize=1 << 16)
def aggregate_id(kind: str, business_id: str) -> UUID:
    return uuid5(NAMESPACE, f"{kind}:{business_id}")


def event_id(originator_id: UUID, version: int) -> str:
    """A stored event's stable id: its aggregate and version, enough to load it back."""
    return f"{originator_id}:{version}"
