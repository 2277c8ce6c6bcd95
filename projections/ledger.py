"""The commission ledger: open periods follow entitlement, closed periods are frozen, and every later
change to a closed period is posted as an adjustment in the first open period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.commission import entitlement
from domain.ids import event_id
from domain.pay_history import Line
from domain.periods import next_period
from projections.pay_facts import PayFacts
from projections.read_model import topic_of

PERIOD_CLOSED = "domain.ledger_periods:LedgerPeriods.PeriodClosed"
RERUN_APPLIED = "domain.ledger_periods:LedgerPeriods.RerunApplied"

ZERO = Decimal(0)


@dataclass
class ClosedPeriod:
    period: str
    # The plan its entitlement is computed under now: the one it closed with, or the last rerun's.
    plan: str
    closed_by: str
    reruns: list[str] = field(default_factory=list)

    def doc(self) -> dict[str, Any]:
        return {"plan": self.plan, "closed_by": self.closed_by, "reruns": self.reruns}


@dataclass
class Ledger:
    facts: PayFacts = field(default_factory=PayFacts)
    closed: dict[str, ClosedPeriod] = field(default_factory=dict)
    frozen: dict[str, list[Line]] = field(default_factory=dict)
    # Closed periods whose record changed since the last save (frozen lines or plan).
    changed_periods: set[str] = field(default_factory=set)
    _entitlements: dict[tuple[str, str], tuple[tuple[int, int], list[Line]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def apply(self, event: Any) -> None:
        self.facts.apply(event)
        topic = topic_of(event)
        if topic == PERIOD_CLOSED:
            self._close(event.period, event.plan, event_id(event.originator_id, event.originator_version))
        elif topic == RERUN_APPLIED:
            closed = self.closed[event.period]
            closed.plan = event.plan
            closed.reruns.append(event_id(event.originator_id, event.originator_version))
            self.changed_periods.add(event.period)

    def _close(self, period: str, plan: str, source: str) -> None:
        # Adjustments first: they are computed against what was posted before this close.
        lines = self.entitlement(period, plan) + self.adjustments()
        self.closed[period] = ClosedPeriod(period, plan, source)
        self.frozen[period] = lines
        self.changed_periods.add(period)

    # -- queries ---------------------------------------------------------------------------

    @property
    def last_closed(self) -> str | None:
        return max(self.closed) if self.closed else None

    @property
    def first_open(self) -> str | None:
        last = self.last_closed
        return None if last is None else next_period(last)

    def is_closed(self, period: str) -> bool:
        return period in self.closed

    def entitlement(self, period: str, plan_key: str | None = None) -> list[Line]:
        """Pay for the period as the history stands, under the given plan or the one governing it."""
        key = plan_key or self.facts.governing_plan(period)
        if key is None:
            return []
        # Closing a period recomputes every closed one; most of them have not changed since.
        version = self.facts.version(period)
        cached = self._entitlements.get((period, key))
        if cached is None or cached[0] != version:
            cached = (version, entitlement(self.facts.plan(key), key, self.facts.history(period)))
            self._entitlements[(period, key)] = cached
        return list(cached[1])

    def current_entitlement(self, period: str) -> list[Line]:
        """Under the plan the ledger uses for the period: its closing or rerun plan once closed."""
        closed = self.closed.get(period)
        return self.entitlement(period, closed.plan if closed else None)

    def posted(self, period: str) -> dict[str, Decimal]:
        """Everything posted for a period so far, per rep: its frozen lines and the adjustments to it."""
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for line in self.frozen.get(period, ()):
            if line.kind != "adjustment":
                totals[line.rep_id] += line.amount
        for lines in self.frozen.values():
            for line in lines:
                if line.kind == "adjustment" and line.corrects == period:
                    totals[line.rep_id] += line.amount
        return dict(totals)

    def adjustments(self) -> list[Line]:
        """One line per rep and closed period whose entitlement now differs from what was posted."""
        target = self.first_open
        lines: list[Line] = []
        posted_sources: dict[tuple[str, str], set[str]] | None = None
        for period in sorted(self.closed):
            closed = self.closed[period]
            now = self.entitlement(period, closed.plan)
            posted = self.posted(period)
            now_totals: defaultdict[str, Decimal] = defaultdict(Decimal)
            for line in now:
                now_totals[line.rep_id] += line.amount
            for rep_id in sorted(set(now_totals) | set(posted)):
                amount = now_totals.get(rep_id, ZERO) - posted.get(rep_id, ZERO)
                if amount == ZERO:
                    continue
                sources = {source for line in now if line.rep_id == rep_id for source in line.sources}
                if posted_sources is None:
                    posted_sources = self._posted_sources()
                sources |= posted_sources.get((rep_id, period), set())
                sources |= set(closed.reruns)
                lines.append(
                    Line(
                        rep_id=rep_id,
                        period=target or period,
                        kind="adjustment",
                        amount=amount,
                        plan=closed.plan,
                        corrects=period,
                        sources=tuple(sorted(sources)),
                        explanation=(
                            f"adjustment: {period} under {closed.plan} now comes to "
                            f"{now_totals.get(rep_id, ZERO)}, {posted.get(rep_id, ZERO)} was posted for it "
                            f"so far; the difference {amount} is posted in {target}"
                        ),
                    )
                )
        return lines

    def _posted_sources(self) -> dict[tuple[str, str], set[str]]:
        """Sources of the posted lines per rep and period, each line under its own period and the
        one it corrects."""
        sources: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        for lines in self.frozen.values():
            for line in lines:
                for period in {line.period, line.corrects}:
                    if period is not None:
                        sources[(line.rep_id, period)].update(line.sources)
        return sources

    def lines(self, period: str) -> list[Line]:
        """The live ledger of a period: frozen once closed; otherwise entitlement, plus the
        adjustments to closed periods when it is the first open one."""
        if period in self.frozen:
            return list(self.frozen[period])
        lines = self.entitlement(period)
        if period == self.first_open:
            lines += self.adjustments()
        return lines

    # -- persistence -----------------------------------------------------------------------

    def take_closed_changes(self) -> dict[str, tuple[dict[str, Any], list[Line]]]:
        changes = {p: (self.closed[p].doc(), self.frozen[p]) for p in sorted(self.changed_periods)}
        self.changed_periods.clear()
        return changes

    def load_closed(self, period: str, doc: dict[str, Any], lines: list[Line]) -> None:
        self.closed[period] = ClosedPeriod(period, doc["plan"], doc["closed_by"], list(doc["reruns"]))
        self.frozen[period] = lines
