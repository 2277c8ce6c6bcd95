"""Entitlement of one period under one plan: DESIGN "Commission semantics", steps 1-7."""

# Explanations are read by payroll clerks, so they use the real multiplication sign.
# ruff: noqa: RUF001

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

from domain.expressions import Frozen, decide_frozen, freeze
from domain.pay_history import Line, LineKind, OrderFact, PeriodHistory, Targets, to_cents
from domain.plan import Accelerators, Band, Bonus, Factor, Plan, Scorecard

ZERO = Decimal(0)
ONE = Decimal(1)
FACTORS: tuple[Factor, ...] = ("sales", "margin", "nps", "process")
# Pinned so the caller's decimal context can never change a figure: replays must be byte-identical.
_ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class CreditedOrder:
    """One credit entry of a counted order: what the order is worth to that rep, unrounded."""

    order: OrderFact
    rep_id: str
    share: Decimal
    amount: Decimal
    margin: Decimal
    rate: Decimal
    base: Decimal


def entitlement(plan: Plan, plan_key: str, history: PeriodHistory) -> list[Line]:
    """Every line of the period: base and bonus per order, then accelerators, then scorecards."""
    with localcontext(_ARITHMETIC):
        credited = [
            entry for order in counted_orders(plan, history.orders) for entry in credit_entries(plan, order)
        ]
        lines = _order_lines(plan, plan_key, history, credited)
        lines += _accelerator_lines(plan, plan_key, history, credited)
        lines += _scorecard_lines(plan, plan_key, history, credited)
    return lines


def counted_orders(plan: Plan, orders: Iterable[OrderFact]) -> list[OrderFact]:
    """The period's orders not clawed back, by (signed_on, order_id)."""
    kept = (order for order in orders if not is_clawed_back(order, plan.clawback_days))
    return sorted(kept, key=lambda order: (order.signed_on, order.order_id))


def is_clawed_back(order: OrderFact, clawback_days: int) -> bool:
    # The window is inclusive: a cancellation on day clawback_days still takes the pay back.
    return order.cancelled_on is not None and (order.cancelled_on - order.signed_on).days <= clawback_days


def credit_entries(plan: Plan, order: OrderFact) -> list[CreditedOrder]:
    rate = plan.rates.first_order if order.first_order else plan.rates.repeat_order
    entries = []
    for credit in order.credit:
        amount = credit.share * order.amount
        entries.append(
            CreditedOrder(
                order=order,
                rep_id=credit.rep_id,
                share=credit.share,
                amount=amount,
                margin=credit.share * order.gross_margin,
                rate=rate,
                base=amount * rate,
            )
        )
    return entries


def _order_lines(
    plan: Plan, plan_key: str, history: PeriodHistory, credited: Sequence[CreditedOrder]
) -> list[Line]:
    lines: list[Line] = []
    conditions = _Conditions(history)
    for entry in credited:
        order = entry.order
        sources = _sources(order.sources)
        kind_of_order = "first order" if order.first_order else "repeat order"
        base = to_cents(entry.base)
        lines += _line(
            entry.rep_id,
            "base",
            base,
            plan_key,
            history,
            sources,
            f"base: {_num(entry.share)} × {_num(order.amount)} = {_num(entry.amount)} credited on "
            f"{order.order_id} ({kind_of_order}) × {_num(entry.rate)} = {base}",
            order_id=order.order_id,
        )
        for bonus in plan.bonuses:
            if not conditions.applies(bonus, entry):
                continue
            amount = to_cents(entry.amount * bonus.rate)
            lines += _line(
                entry.rep_id,
                "bonus",
                amount,
                plan_key,
                history,
                sources,
                f"bonus {bonus.id}: {_num(entry.amount)} credited on {order.order_id} × {_num(bonus.rate)} "
                f"= {amount} (when {bonus.when})",
                order_id=order.order_id,
                bonus_id=bonus.id,
            )
    return lines


class _Conditions:
    """Decides bonus conditions for the credited orders of one period, in order.

    What a condition sees is frozen once: an order's deal and customer for all its credit entries and
    bonuses, a rep for all their orders, an entry for all its bonuses. Each is frozen when a condition
    first needs it, in the order the variables are named, so a value a condition cannot see fails the
    same decision, with the same message, as when every decision froze them all."""

    def __init__(self, history: PeriodHistory) -> None:
        self._history = history
        self._reps: dict[str, Frozen] = {}
        self._order: OrderFact | None = None
        self._deal: Frozen | None = None
        self._customer: Frozen | None = None
        self._entry: CreditedOrder | None = None
        self._frozen_entry: Frozen | None = None

    def applies(self, bonus: Bonus, entry: CreditedOrder) -> bool:
        try:
            return decide_frozen(bonus.when, self._variables(entry))
        except ValueError as error:
            raise ValueError(
                f"bonus {bonus.id!r} cannot be decided for order {entry.order.order_id}, rep {entry.rep_id}: "
                f"{error}"
            ) from error

    def _variables(self, entry: CreditedOrder) -> tuple[tuple[str, Frozen], ...]:
        # A failure raises out of the whole entitlement: nothing kept here is used after it.
        order = entry.order
        if entry is not self._entry:
            self._frozen_entry = freeze(_order_variable(entry))
            self._entry = entry
        if order is not self._order:
            self._deal = freeze(order.deal)
            self._customer = freeze(order.customer)
            self._order = order
        rep = self._reps.get(entry.rep_id)
        if rep is None:
            rep = freeze(self._history.reps.get(entry.rep_id, {"rep_id": entry.rep_id}))
            self._reps[entry.rep_id] = rep
        return (
            ("order", self._frozen_entry),
            ("deal", self._deal),
            ("customer", self._customer),
            ("rep", rep),
        )


def _order_variable(entry: CreditedOrder) -> dict[str, object]:
    order = entry.order
    return {
        "order_id": order.order_id,
        "deal_id": order.deal_id,
        "customer_id": order.customer_id,
        "amount": order.amount,
        "gross_margin": order.gross_margin,
        "signed_on": order.signed_on.isoformat(),
        "first_order": order.first_order,
        "credited_amount": entry.amount,
        "credited_margin": entry.margin,
        "share": entry.share,
    }


def _accelerator_lines(
    plan: Plan, plan_key: str, history: PeriodHistory, credited: Sequence[CreditedOrder]
) -> list[Line]:
    accelerators = plan.accelerators
    if accelerators is None:
        return []
    lines: list[Line] = []
    by_rep = _by_rep(credited)
    for rep_id in sorted(history.targets):
        targets = history.targets[rep_id]
        entries = by_rep.get(rep_id, [])
        if targets.quota <= 0 or not entries:
            continue
        if accelerators.mode == "marginal":
            raw, explanation = _marginal(accelerators.bands, targets.quota, entries)
        else:
            raw, explanation = _retroactive(accelerators, targets.quota, entries)
        amount = to_cents(raw)
        sources = _sources([targets.source], *(entry.order.sources for entry in entries))
        lines += _line(rep_id, "accelerator", amount, plan_key, history, sources, f"{explanation} = {amount}")
    return lines


def _marginal(bands: Sequence[Band], quota: Decimal, entries: Sequence[CreditedOrder]) -> tuple[Decimal, str]:
    total = ZERO
    terms = []
    reached = ZERO
    for entry in entries:
        start, reached = reached, reached + entry.amount
        if entry.amount <= 0:
            continue
        for band, upper in _band_bounds(bands, quota):
            lower = band.from_ * quota
            top = reached if upper is None else min(reached, upper)
            overlap = max(ZERO, top - max(start, lower))
            earned = entry.base * overlap / entry.amount * (band.multiplier - ONE)
            if earned == 0:
                continue
            total += earned
            terms.append(
                f"{entry.order.order_id} base {_num(entry.base)} × {_num(overlap)} ÷ {_num(entry.amount)} "
                f"in band from {_num(band.from_)} (×{_num(band.multiplier)}) × ({_num(band.multiplier)} - 1)"
            )
    described = "; ".join(terms) if terms else "no credited amount in a band with a multiplier other than 1"
    return total, f"accelerator (marginal) on quota {_num(quota)}: {described}"


def _band_bounds(bands: Sequence[Band], quota: Decimal) -> list[tuple[Band, Decimal | None]]:
    """Each band with its exclusive upper bound in money; the last band has none."""
    uppers: list[Decimal | None] = [band.from_ * quota for band in bands[1:]]
    return list(zip(bands, [*uppers, None], strict=True))


def _retroactive(
    accelerators: Accelerators, quota: Decimal, entries: Sequence[CreditedOrder]
) -> tuple[Decimal, str]:
    credited = sum((entry.amount for entry in entries), ZERO)
    base = sum((entry.base for entry in entries), ZERO)
    attainment = credited / quota
    reached = [band for band in accelerators.bands if band.from_ <= attainment]
    band = reached[-1] if reached else accelerators.bands[0]
    raw = base * (band.multiplier - ONE)
    return raw, (
        f"accelerator (retroactive): attainment {_num(credited)} ÷ {_num(quota)} = {_num(attainment)} "
        f"in band from {_num(band.from_)} (×{_num(band.multiplier)}); "
        f"base {_num(base)} × ({_num(band.multiplier)} - 1)"
    )


def _scorecard_lines(
    plan: Plan, plan_key: str, history: PeriodHistory, credited: Sequence[CreditedOrder]
) -> list[Line]:
    scorecard = plan.scorecard
    if scorecard is None:
        return []
    lines: list[Line] = []
    by_rep = _by_rep(credited)
    for rep_id in sorted(history.targets):
        targets = history.targets[rep_id]
        entries = by_rep.get(rep_id, [])
        attainments, details, event_ids = _attainments(rep_id, targets, entries, history)
        raw, formula = _scorecard_sum(scorecard, targets.target_incentive, attainments)
        amount = to_cents(raw)
        sources = _sources([targets.source], event_ids, *(entry.order.sources for entry in entries))
        explanation = f"scorecard: {formula} = {amount}; {'; '.join(details)}"
        lines += _line(rep_id, "scorecard", amount, plan_key, history, sources, explanation)
    return lines


def _attainments(
    rep_id: str, targets: Targets, entries: Sequence[CreditedOrder], history: PeriodHistory
) -> tuple[dict[Factor, Decimal], list[str], list[str]]:
    """Attainment per factor, a readable account of each, and the events behind them."""
    credited = sum((entry.amount for entry in entries), ZERO)
    margin = sum((entry.margin for entry in entries), ZERO)
    scores = history.nps.get(rep_id, ())
    moves = history.moves.get(rep_id)
    allowed = moves.allowed if moves else ()
    blocked = moves.blocked if moves else ()
    attempts = len(allowed) + len(blocked)

    sales, sales_detail = _ratio("sales", credited, targets.quota, "quota")
    margin_attainment, margin_detail = _ratio("margin", margin, targets.margin_target, "margin target")
    if scores:
        mean = Decimal(sum(score.score for score in scores)) / len(scores)
        nps, ratio_detail = _ratio("nps", mean, targets.nps_target, "nps target")
        nps_detail = f"{ratio_detail} (mean of {len(scores)} scores)"
    else:
        nps, nps_detail = ZERO, "nps 0 (no score in the period)"
    if attempts:
        process = Decimal(len(allowed)) / attempts
        process_detail = f"process {len(allowed)} allowed ÷ {attempts} attempted moves = {_num(process)}"
    else:
        process, process_detail = ONE, "process 1 (no stage move attempted)"

    attainments: dict[Factor, Decimal] = {
        "sales": sales,
        "margin": margin_attainment,
        "nps": nps,
        "process": process,
    }
    details = [sales_detail, margin_detail, nps_detail, process_detail]
    event_ids = [score.source for score in scores] + list(allowed) + list(blocked)
    return attainments, details, event_ids


def _ratio(factor: str, achieved: Decimal, target: Decimal, target_name: str) -> tuple[Decimal, str]:
    # A zero target is a target nobody set: it earns nothing rather than dividing by zero.
    if target == 0:
        return ZERO, f"{factor} 0 ({target_name} is 0)"
    attainment = achieved / target
    return attainment, f"{factor} {_num(achieved)} ÷ {_num(target)} = {_num(attainment)}"


def _scorecard_sum(
    scorecard: Scorecard, target_incentive: Decimal, attainments: Mapping[Factor, Decimal]
) -> tuple[Decimal, str]:
    total = ZERO
    terms = []
    for factor in FACTORS:
        weight = scorecard.weights.get(factor)
        if weight is None:
            continue
        capped = min(scorecard.cap, attainments[factor])
        total += weight * capped
        terms.append(f"{_num(weight)} × min({_num(scorecard.cap)}, {_num(attainments[factor])})")
    formula = f"{_num(target_incentive)} × ({' + '.join(terms) if terms else '0'})"
    return target_incentive * total, formula


def _line(
    rep_id: str,
    kind: LineKind,
    amount: Decimal,
    plan_key: str,
    history: PeriodHistory,
    sources: tuple[str, ...],
    explanation: str,
    *,
    order_id: str | None = None,
    bonus_id: str | None = None,
) -> list[Line]:
    """The line as a list of one, or none when it rounds to zero (the ledger leaves those out)."""
    if amount == 0:
        return []
    return [
        Line(
            rep_id=rep_id,
            period=history.period,
            kind=kind,
            amount=amount,
            plan=plan_key,
            order_id=order_id,
            bonus_id=bonus_id,
            sources=sources,
            explanation=explanation,
        )
    ]


def _by_rep(credited: Sequence[CreditedOrder]) -> dict[str, list[CreditedOrder]]:
    """Each rep's credit entries, in the order credited."""
    by_rep: dict[str, list[CreditedOrder]] = {}
    for entry in credited:
        by_rep.setdefault(entry.rep_id, []).append(entry)
    return by_rep


def _sources(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(itertools.chain.from_iterable(groups))))


def _num(value: Decimal) -> str:
    """A readable figure: no exponent, no trailing zeros, ratios like 1/3 cut at six places."""
    # Explanations spell the same figures over and over (a plan's rates, a share, an order's amount,
    # in every recomputation of a period): each is worked out once, by its exact text.
    return _num_of(str(value))


@lru_cache(maxsize=1 << 14)
def _num_of(text: str) -> str:
    value = Decimal(text)
    # Pinned like the sums it spells, whoever asks: a figure reads the same at any recomputation.
    with localcontext(_ARITHMETIC):
        if value == 0:
            return "0"
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -6:
            value = value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        return format(value.normalize(), "f")
