from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.expressions import check_expression
from domain.periods import is_period

Rate = Annotated[Decimal, Field(ge=0, le=1)]
Factor = Literal["sales", "margin", "nps", "process"]


class Rates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    first_order: Rate
    repeat_order: Rate


class Band(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    from_: Decimal = Field(alias="from", ge=0)
    multiplier: Decimal = Field(ge=0)


class Accelerators(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    mode: Literal["marginal", "retroactive"]
    bands: tuple[Band, ...] = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _ordered_from_zero(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        if bands[0].from_ != 0:
            raise ValueError("the first band must start at 0")
        for lower, upper in itertools.pairwise(bands):
            if upper.from_ <= lower.from_:
                raise ValueError("bands must be in strictly increasing order of 'from'")
        return bands


class Bonus(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    when: str
    rate: Rate

    @field_validator("when")
    @classmethod
    def _parses(cls, when: str) -> str:
        check_expression(when)
        return when


class Scorecard(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    weights: dict[Factor, Decimal]
    cap: Decimal = Field(gt=0)

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, weights: dict[Factor, Decimal]) -> dict[Factor, Decimal]:
        if any(weight < 0 for weight in weights.values()):
            raise ValueError("weights must not be negative")
        return weights


class Plan(BaseModel):
    """A commission plan document: validated once, published as an event, never edited."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(ge=1)
    effective_from: str
    rates: Rates
    accelerators: Accelerators | None = None
    bonuses: tuple[Bonus, ...] = ()
    clawback_days: int = Field(default=0, ge=0)
    scorecard: Scorecard | None = None

    @field_validator("effective_from")
    @classmethod
    def _is_period(cls, value: str) -> str:
        if not is_period(value):
            raise ValueError("effective_from must be a period YYYY-MM (e.g. 2026-04)")
        return value

    @model_validator(mode="after")
    def _unique_bonus_ids(self) -> Plan:
        ids = [bonus.id for bonus in self.bonuses]
        if len(set(ids)) != len(ids):
            raise ValueError("bonus ids must be unique within a plan")
        return self

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def document(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)
