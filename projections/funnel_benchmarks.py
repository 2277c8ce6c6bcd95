"""What a healthy funnel looks like, per stage: configuration, compared with what the funnel shows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.stages import FUNNEL, Stage


class StageBenchmark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Lowest acceptable share of a stage's cohort that moved forward.
    conversion: float = Field(ge=0, le=1)
    # Highest acceptable mean time in the stage, in days.
    days_in_stage: float = Field(gt=0)
    # A deal in the stage longer than this is stalled.
    stall_days: float = Field(gt=0)


DEFAULT_STAGES: dict[Stage, StageBenchmark] = {
    Stage.LEAD: StageBenchmark(conversion=0.5, days_in_stage=7, stall_days=14),
    Stage.QUALIFIED: StageBenchmark(conversion=0.6, days_in_stage=14, stall_days=21),
    Stage.NEEDS_CONFIRMED: StageBenchmark(conversion=0.6, days_in_stage=14, stall_days=21),
    Stage.SOLUTION_DEMO: StageBenchmark(conversion=0.5, days_in_stage=21, stall_days=30),
    Stage.QUOTATION: StageBenchmark(conversion=0.5, days_in_stage=14, stall_days=30),
    Stage.NEGOTIATION: StageBenchmark(conversion=0.6, days_in_stage=21, stall_days=45),
}


class Benchmarks(BaseModel):
    """Configured stages override the defaults field by field; stages not named keep theirs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stages: dict[Stage, StageBenchmark] = Field(default_factory=lambda: dict(DEFAULT_STAGES))
    # Lowest acceptable share of assigned deals first touched within the SLA.
    follow_up_rate: float = Field(default=0.9, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, config: Any) -> Any:
        if not isinstance(config, dict) or not isinstance(config.get("stages"), dict):
            return config
        stages: dict[Any, Any] = {s.value: DEFAULT_STAGES[s].model_dump() for s in FUNNEL}
        for name, fields in config["stages"].items():
            if name in stages and isinstance(fields, dict):
                stages[name] = {**stages[name], **fields}
            else:
                stages[name] = fields  # validation names what is wrong with it
        return {**config, "stages": stages}

    def stage(self, stage: Stage) -> StageBenchmark:
        return self.stages[stage]
