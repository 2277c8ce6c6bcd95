"""When win-factor attribution answers, and when it refuses: its significance level and the least data
it needs. Apart from the model (replay/attribution.py) so that reading them loads no statistics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    alpha: float = 0.05
    min_deals: int = 100
    min_per_outcome: int = 20
    # Peduzzi et al.'s rule of thumb: at least 10 of the rarer outcome per estimated parameter.
    events_per_parameter: float = 10.0
    # Category levels with fewer deals are pooled into "other".
    min_level: int = 10
