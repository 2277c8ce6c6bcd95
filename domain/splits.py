from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.errors import DomainError


@dataclass(frozen=True)
class Split:
    rep_id: str
    share: Decimal


def owner_split(owner_rep_id: str) -> tuple[Split, ...]:
    return (Split(owner_rep_id, Decimal(1)),)


def check_splits(splits: list[Split], field: str = "splits") -> None:
    if not splits:
        raise DomainError(field, "at least one rep must be credited")
    reps = [split.rep_id for split in splits]
    if len(set(reps)) != len(reps):
        raise DomainError(field, "a rep may appear only once in a credit split")
    for split in splits:
        if not Decimal(0) < split.share <= Decimal(1):
            raise DomainError(field, f"share of {split.rep_id} must be > 0 and <= 1, got {split.share}")
    total = sum((split.share for split in splits), Decimal(0))
    if total != Decimal(1):
        raise DomainError(field, f"shares must sum to exactly 1, got {total}")
