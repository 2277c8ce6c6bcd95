from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.contract import ClauseRules

DEFAULT_SLA_HOURS: Mapping[str, float] = {"presales": 2, "legal": 4, "delivery": 1}


@dataclass(frozen=True)
class Context:
    """What handlers need besides the store: the clock and configurable business rules."""

    clock: Callable[[], datetime]
    sla_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    clause_rules: ClauseRules = field(default_factory=ClauseRules)
    first_touch_hours: float = 72
