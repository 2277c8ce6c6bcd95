"""Planted win factors: a controlled experiment inside a simulated history, to test attribution.

With a planting, every deal that would close after reaching quotation has its ending decided when it
first reaches quotation, from what it has then: the odds of winning are BASE_ODDS times the multiplier
of each planted factor the deal has. Nothing else about the walk changes, so any other factor has no
effect on winning, and the planted ones have exactly the odds ratio given."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping

from adapters.simulation.records import Deal

BASE_ODDS = 1.0
# Each factor as attribution measures it at the deal's first reach of quotation.
PLANTABLE: dict[str, Callable[[Deal], bool]] = {
    "exec_intro": lambda deal: deal.activities.get("exec_intro", 0) >= 1,
    "split_credit": lambda deal: len(deal.splits) >= 2,
}


def check_odds(odds: Mapping[str, float]) -> None:
    unknown = sorted(set(odds) - set(PLANTABLE))
    if unknown:
        raise ValueError(f"plant: {unknown[0]} cannot be planted (plantable: {', '.join(PLANTABLE)})")
    for factor, multiplier in odds.items():
        if not (math.isfinite(multiplier) and multiplier > 0):
            raise ValueError(f"plant: {factor}'s odds multiplier must be a positive number")


class Planting:
    def __init__(self, odds: Mapping[str, float], seed: int) -> None:
        check_odds(odds)
        self.odds = dict(odds)
        # Its own stream, so that deciding endings does not shift the draws of everything else.
        self._rng = random.Random(seed * 1_000_003 + 17)

    def wins(self, deal: Deal) -> bool:
        odds = BASE_ODDS
        for factor, multiplier in self.odds.items():
            if PLANTABLE[factor](deal):
                odds *= multiplier
        return self._rng.random() < odds / (1 + odds)


def parse_plant(items: Iterable[str]) -> dict[str, float]:
    """`exec_intro=3.0` items (the CLI's --plant) as a mapping; errors name the item and the rule."""
    odds: dict[str, float] = {}
    for item in items:
        factor, sep, value = item.partition("=")
        try:
            odds[factor.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"plant {item!r}: expected FACTOR=ODDS_MULTIPLIER, e.g. exec_intro=3.0")
    check_odds(odds)
    return odds
