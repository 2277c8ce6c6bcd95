"""What the commission maths reads about one period: plain values, folded from events elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

LineKind = Literal["base", "bonus", "accelerator", "scorecard", "adjustment"]
CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    """Every ledger line is rounded once, to 0.01, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Credit:
    rep_id: str
    share: Decimal


@dataclass(frozen=True)
class OrderFact:
    order_id: str
    deal_id: str
    customer_id: str
    signed_on: date
    amount: Decimal
    gross_margin: Decimal
    credit: tuple[Credit, ...]
    # Whether no other order of the customer has an earlier (signed_on, order_id), cancelled or not.
    first_order: bool
    # Business date of the cancellation, if any (the wall-clock date of its occurred_at).
    cancelled_on: date | None
    # Event ids: the booking, then the cancellation if there is one.
    sources: tuple[str, ...]
    # Facts about the deal and customer at booking time, exposed to bonus conditions as
    # `deal` and `customer`; values are JSON-like (str, int, float, bool, list, dict).
    deal: Mapping[str, object] = field(default_factory=dict)
    customer: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Targets:
    quota: Decimal
    margin_target: Decimal
    nps_target: Decimal
    target_incentive: Decimal
    source: str


@dataclass(frozen=True)
class NpsScore:
    score: int
    source: str


@dataclass(frozen=True)
class MoveAttempts:
    """Stage moves a rep attempted in the period: event ids of the allowed and of the blocked ones."""

    allowed: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeriodHistory:
    period: str
    # Every booked order with signed_on in the period, cancelled or not.
    orders: tuple[OrderFact, ...]
    targets: Mapping[str, Targets] = field(default_factory=dict)
    # NPS scores recorded in the period for customers the rep owned a deal of at the time.
    nps: Mapping[str, tuple[NpsScore, ...]] = field(default_factory=dict)
    moves: Mapping[str, MoveAttempts] = field(default_factory=dict)
    # Rep facts exposed to bonus conditions as `rep` (rep_id, name, role, team, region).
    reps: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    rep_id: str
    period: str
    kind: LineKind
    amount: Decimal
    plan: str
    order_id: str | None = None
    corrects: str | None = None
    bonus_id: str | None = None
    sources: tuple[str, ...] = ()
    explanation: str = ""
