"""Monthly effectiveness diagnosis per team: every measured gap against the benchmark, ranked by its
impact, the largest three told as sentences with their numbers.

Measured per team and month, by business time, the team being the owner's when the fact happened
(as in funnel health): days in each stage (stays that ended in the month), conversion of each stage
(of the stays that began in the month, the share since moved forward or won), and first touches
within the SLA (of the assignments made in the month). The benchmark is configuration (Benchmarks),
or the whole organisation's figure for the same month.

Impact puts gaps of different kinds on one scale: the relative shortfall times the number of deals
it concerns (42 % longer over 10 stays weighs 4.2; 11 % less conversion of 30 deals weighs 3.3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.periods import period_of
from domain.stages import FUNNEL, Stage
from projections.deal_journeys import Journeys

Metric = Literal["days_in_stage", "conversion", "first_touch"]
ORGANISATION = "the organisation"


class StageBenchmark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # Highest acceptable mean days in the stage.
    days: float = Field(gt=0)
    # Lowest acceptable share of the stage's entries that move forward.
    conversion: float = Field(gt=0, le=1)


DEFAULT_STAGES: dict[Stage, StageBenchmark] = {
    Stage.LEAD: StageBenchmark(days=7, conversion=0.5),
    Stage.QUALIFIED: StageBenchmark(days=14, conversion=0.6),
    Stage.NEEDS_CONFIRMED: StageBenchmark(days=14, conversion=0.6),
    Stage.SOLUTION_DEMO: StageBenchmark(days=21, conversion=0.5),
    Stage.QUOTATION: StageBenchmark(days=14, conversion=0.5),
    Stage.NEGOTIATION: StageBenchmark(days=21, conversion=0.6),
}


class Benchmarks(BaseModel):
    """Stages not named keep their defaults; a stage named overrides only the fields it gives."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    stages: dict[Stage, StageBenchmark] = Field(default_factory=lambda: dict(DEFAULT_STAGES))
    first_touch_rate: float = Field(default=0.9, gt=0, le=1)
    # A figure measured on fewer deals than this is not compared: too few to mean anything.
    min_sample: int = Field(default=5, ge=1)
    # A shortfall smaller than this share of the benchmark is noise, not a gap.
    min_gap: float = Field(default=0.05, ge=0)
    top: int = Field(default=3, ge=1)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Benchmarks:
        stages = {stage.value: DEFAULT_STAGES[stage].model_dump() for stage in FUNNEL}
        for name, fields in (config.get("stages") or {}).items():
            if name not in stages:
                raise ValueError(f"stages.{name}: not a funnel stage ({', '.join(stages)})")
            if not isinstance(fields, Mapping):
                raise ValueError(f"stages.{name}: expected days and/or conversion")
            stages[name] = {**stages[name], **fields}
        return cls.model_validate({**config, "stages": stages})


@dataclass
class Measure:
    """Observations of one metric for one team (or the organisation) in one month."""

    values: list[float] = field(default_factory=list)

    @property
    def sample(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)


MeasureKey = tuple[Metric, Stage | None]


def measures(journeys: Journeys, period: str) -> dict[str, dict[MeasureKey, Measure]]:
    """Per team, and for the organisation under ORGANISATION, every metric's observations in the month."""
    found: defaultdict[str, defaultdict[MeasureKey, Measure]] = defaultdict(lambda: defaultdict(Measure))

    def add(rep_id: str, key: MeasureKey, value: float) -> None:
        for who in (journeys.rep(rep_id).team, ORGANISATION):
            found[who][key].values.append(value)

    for deal_id in sorted(journeys.deals):
        journey = journeys.deals[deal_id]
        for stay in journey.stays:
            days = stay.days
            if stay.left_at is not None and days is not None and period_of(stay.left_at) == period:
                add(stay.left_owner or stay.entered_owner, ("days_in_stage", stay.stage), days)
            if period_of(stay.entered_at) == period:
                add(stay.entered_owner, ("conversion", stay.stage), float(stay.exit == "advanced"))
        for assignment in journey.assignments:
            if period_of(assignment.at) == period:
                touched = assignment.touched_at is not None and assignment.touched_at <= assignment.due
                add(assignment.rep_id, ("first_touch", None), float(touched))
    return {who: dict(by_key) for who, by_key in found.items()}


def benchmark_value(benchmarks: Benchmarks, key: MeasureKey) -> float:
    metric, stage = key
    if metric == "first_touch":
        return benchmarks.first_touch_rate
    assert stage is not None
    figures = benchmarks.stages[stage]
    return figures.days if metric == "days_in_stage" else figures.conversion


def diagnose(
    journeys: Journeys,
    period: str,
    benchmarks: Benchmarks | None = None,
    against: Literal["config", "org"] = "config",
    teams: Iterable[str] | None = None,
) -> dict[str, Any]:
    benchmarks = benchmarks or Benchmarks()
    measured = measures(journeys, period)
    organisation = measured.get(ORGANISATION, {})
    wanted = sorted(set(teams) if teams is not None else {t for t in measured if t != ORGANISATION})
    report = []
    for team in wanted:
        gaps = []
        for key, measure in sorted(measured.get(team, {}).items(), key=lambda item: _key_order(item[0])):
            if measure.sample < benchmarks.min_sample:
                continue
            if against == "org":
                reference = organisation.get(key)
                if reference is None or reference.sample < benchmarks.min_sample:
                    continue
                bench = reference.mean
            else:
                bench = benchmark_value(benchmarks, key)
            gap = _gap(team, period, key, measure, bench, against)
            if gap is not None and gap["relative_gap"] >= benchmarks.min_gap:
                gaps.append(gap)
        gaps.sort(key=lambda gap: (-gap["impact"], gap["metric"], gap["stage"] or ""))
        top = gaps[: benchmarks.top]
        report.append(
            {
                "team": team,
                "gaps_found": len(gaps),
                "gaps": top,
                "sentences": [gap["sentence"] for gap in top]
                or [f"team {team} has no measured gap worse than {_against(against)} in {period}"],
            }
        )
    return {
        "period": period,
        "benchmark": "configured" if against == "config" else "organisation",
        "benchmarks": benchmarks.model_dump(mode="json") if against == "config" else None,
        "impact": "relative gap x deals it concerns",
        "teams": report,
    }


def _key_order(key: MeasureKey) -> tuple[str, int]:
    metric, stage = key
    return metric, -1 if stage is None else stage.rank


def _against(against: str) -> str:
    return "the benchmark" if against == "config" else "the organisation"


def _gap(
    team: str, period: str, key: MeasureKey, measure: Measure, bench: float, against: str
) -> dict[str, Any] | None:
    metric, stage = key
    value, n = measure.mean, measure.sample
    if bench <= 0:
        return None
    relative = value / bench - 1 if metric == "days_in_stage" else 1 - value / bench
    if relative <= 0:
        return None
    pct = round(relative * 100)
    if pct == 0:
        return None
    where = _against(against)
    if metric == "days_in_stage":
        sentence = (
            f"team {team} spends {pct} % longer in {stage} than {where}: {value:.1f} days on average "
            f"over {n} stays that ended in {period}, against {bench:.1f}"
        )
    elif metric == "conversion":
        sentence = (
            f"team {team} converts {pct} % less from {stage} than {where}: {value:.0%} of the {n} "
            f"deals that entered it in {period} moved on, against {bench:.0%}"
        )
    else:
        sentence = (
            f"team {team} first-touches {pct} % fewer assigned deals within the SLA than {where}: "
            f"{value:.0%} of {n} assignments in {period}, against {bench:.0%}"
        )
    return {
        "metric": metric,
        "stage": None if stage is None else stage.value,
        "value": round(value, 4),
        "benchmark": round(bench, 4),
        "sample": n,
        "relative_gap": round(relative, 4),
        "impact": round(relative * n, 3),
        "sentence": sentence,
    }
