"""Funnel health for a period, from the funnel read model: counts per stage and owner, time in stage,
stalled deals as of the period's end (or now, for the open period), and what is worse than benchmark."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from domain.periods import next_period, period_end, period_of
from domain.stages import FUNNEL, Stage
from projections.funnel import EXITS, NAME
from projections.funnel_benchmarks import Benchmarks
from projections.read_model import Document

ALL = "all"


class Docs(Protocol):
    """The part of a document view the funnel queries need."""

    def part(
        self, projection: str, kind: str, part: str, since: str = ..., until: str = ...
    ) -> list[tuple[str, Document]]: ...

    def get(self, projection: str, kind: str, key: str) -> Document | None: ...


def nearest_rank(ordered: list[float], percent: int) -> float:
    rank = -(-percent * len(ordered) // 100)
    return ordered[max(rank, 1) - 1]


def hours(seconds: Iterable[int]) -> dict[str, Any]:
    """Mean, p50 and p90 (nearest rank) in hours of the stays given; None when there are none."""
    ordered = sorted(s / 3600 for s in seconds)
    if not ordered:
        return {"stays": 0, "mean": None, "p50": None, "p90": None}
    return {
        "stays": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 2),
        "p50": round(nearest_rank(ordered, 50), 2),
        "p90": round(nearest_rank(ordered, 90), 2),
    }


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def counted(docs: Docs, kind: str, period: str, by: str | None) -> dict[tuple[str, str], Document]:
    """The period's documents of a kind, per (group, stage): per rep, per team, or all summed."""
    source = by or "team"
    merged: dict[tuple[str, str], Document] = {}
    for _, doc in docs.part(NAME, kind, period):
        if doc["by"] != source:
            continue
        group = doc["group"] if by else ALL
        into = merged.setdefault((group, doc.get("stage", "")), {"missing": {}, "stay_seconds": []})
        for field, value in doc.items():
            if field == "missing":
                for item, n in value.items():
                    into["missing"][item] = into["missing"].get(item, 0) + n
            elif field == "stay_seconds":
                into["stay_seconds"].extend(value)
            elif isinstance(value, int):
                into[field] = into.get(field, 0) + value
    return merged


@dataclass(frozen=True)
class Cutoff:
    """The moment "stalled" is judged at: the end of a past period, or now for the open one."""

    period: str
    now: datetime

    @property
    def is_open(self) -> bool:
        return period_of(self.now) <= self.period

    def reached(self, moment: datetime) -> bool:
        return moment <= self.now if self.is_open else period_of(moment) <= self.period

    def age(self, entered: datetime) -> timedelta:
        if self.is_open:
            return self.now - entered
        # The end of the period on the stay's own wall clock, as periods are by wall-clock date.
        return datetime.combine(period_end(self.period), time(), entered.tzinfo) - entered

    def as_of(self) -> str:
        return self.now.isoformat() if self.is_open else f"end of {self.period}"


def stalled(
    docs: Docs, cutoff: Cutoff, by: str | None, benchmarks: Benchmarks
) -> dict[tuple[str, str], list[Document]]:
    found: dict[tuple[str, str], list[Document]] = {}
    since = period_of(cutoff.now) if cutoff.is_open else next_period(cutoff.period)
    for stage in FUNNEL:
        limit = timedelta(days=benchmarks.stage(stage).stall_days)
        for _, stay in docs.part(NAME, "stay", stage.value, since=since):
            entered = datetime.fromisoformat(stay["entered_at"])
            left = stay["ended_at"] is not None and cutoff.reached(datetime.fromisoformat(stay["ended_at"]))
            if left or not cutoff.reached(entered):
                continue
            age = cutoff.age(entered)
            if age <= limit:
                continue
            _, rep, team = [o for o in stay["owners"] if cutoff.reached(datetime.fromisoformat(o[0]))][-1]
            group = {"rep": rep, "team": team}.get(by or "", ALL)
            deal = {"deal_id": stay["deal_id"], "owner": rep, "days": round(age / timedelta(days=1), 1)}
            found.setdefault((group, stage.value), []).append(deal)
    return found


def stage_row(group: str, stage: Stage, cell: Document, stuck: list[Document], bench: Benchmarks) -> Document:
    benchmark = bench.stage(stage)
    entered = cell.get("entered", 0)
    conversion = ratio(cell.get("advanced", 0), entered)
    time_in_stage = hours(cell["stay_seconds"])
    flags = []
    if conversion is not None and conversion < benchmark.conversion:
        flags.append("conversion")
    if time_in_stage["mean"] is not None and time_in_stage["mean"] > benchmark.days_in_stage * 24:
        flags.append("time_in_stage")
    if stuck:
        flags.append("stalled")
    return {
        "group": group,
        "stage": stage.value,
        "entered": entered,
        **{exit: cell.get(exit, 0) for exit in EXITS},
        "conversion": conversion,
        "time_in_stage_hours": time_in_stage,
        "stalled": len(stuck),
        "stalled_deals": sorted(stuck, key=lambda d: (-d["days"], d["deal_id"])),
        "blocked": cell.get("blocked", 0),
        "missing": dict(sorted(cell["missing"].items())),
        "benchmark": benchmark.model_dump(),
        "flags": flags,
    }


def follow_up_row(group: str, doc: Document, bench: Benchmarks) -> Document:
    """Rate: touched within the SLA ÷ assignments the rep could miss (not withdrawn before the deadline)."""
    assigned, withdrawn = doc.get("assigned", 0), doc.get("withdrawn", 0)
    rate = ratio(doc.get("in_sla", 0), assigned - withdrawn)
    return {
        "group": group,
        "assigned": assigned,
        "touched_within_sla": doc.get("in_sla", 0),
        "touched_late": doc.get("late", 0),
        "untouched": doc.get("untouched", 0),
        "withdrawn": withdrawn,
        "overdue_recorded": doc.get("overdue", 0),
        "rate": rate,
        "benchmark": bench.follow_up_rate,
        "flags": ["follow_up"] if rate is not None and rate < bench.follow_up_rate else [],
    }


def funnel_health(docs: Docs, period: str, by: str | None, bench: Benchmarks, now: datetime) -> Document:
    cutoff = Cutoff(period, now)
    cells = counted(docs, "cell", period, by)
    stuck = stalled(docs, cutoff, by, bench)
    follow = counted(docs, "follow", period, by)
    groups = sorted({group for group, _ in [*cells, *stuck]})
    empty: Document = {"missing": {}, "stay_seconds": []}
    return {
        "period": period,
        "by": by or ALL,
        "stalled_as_of": cutoff.as_of(),
        "stages": [
            stage_row(g, s, cells.get((g, s.value), empty), stuck.get((g, s.value), []), bench)
            for g in groups
            for s in FUNNEL
        ],
        "follow_up": [follow_up_row(group, doc, bench) for (group, _), doc in sorted(follow.items())],
    }
