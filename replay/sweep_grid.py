"""The variations of a what-if sweep: `FIELD=FROM..TO:STEP` axes over the numeric terms of a plan,
their grid, and the validated plan at each point. Bad input names the field and the rule."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from domain.plan import Plan

MAX_POINTS = 1000
# Identity of a plan, not its terms: sweeping these would not be a what-if on pay.
NOT_TERMS = frozenset({"name", "version", "effective_from"})
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")
_INDEX = re.compile(r"\[(\d+)\]")

Point = tuple[tuple[str, Decimal], ...]
PathStep = str | int


class SweepError(ValueError):
    """A sweep that cannot be run; the message names the field and the rule it breaks."""


@dataclass(frozen=True)
class Axis:
    field: str
    values: tuple[Decimal, ...]


def parse_axis(text: str) -> Axis:
    """`FIELD=FROM..TO:STEP` (inclusive of both ends), or `FIELD=VALUE` for a single value.

    Numbers may carry a `%` (0.4% is 0.004)."""
    field, sep, spec = text.partition("=")
    field = field.strip()
    if not sep or not field:
        raise SweepError(
            f"sweep {text!r}: expected FIELD=FROM..TO:STEP (e.g. bonuses[0].rate=0.4%..1.2%:0.1%)"
        )
    parse_path(field)
    spec = spec.strip()
    if ".." not in spec:
        return Axis(field, (_number(field, "VALUE", spec),))
    span, colon, step_text = spec.partition(":")
    low_text, _, high_text = span.partition("..")
    low = _number(field, "FROM", low_text)
    high = _number(field, "TO", high_text)
    if not colon:
        raise SweepError(f"sweep {field}: STEP is missing (write FROM..TO:STEP)")
    step = _number(field, "STEP", step_text)
    if step <= 0:
        raise SweepError(f"sweep {field}: STEP must be greater than 0, got {step_text.strip()}")
    if low > high:
        raise SweepError(f"sweep {field}: FROM ({low_text.strip()}) must not exceed TO ({high_text.strip()})")
    steps = (high - low) / step
    if steps != steps.to_integral_value():
        raise SweepError(
            f"sweep {field}: TO - FROM ({high - low}) must be a whole number of STEPs ({step}), "
            "so that both ends are points of the sweep"
        )
    count = int(steps) + 1
    if count > MAX_POINTS:
        raise SweepError(f"sweep {field}: {count} values; at most {MAX_POINTS} per sweep")
    return Axis(field, tuple(low + step * index for index in range(count)))


def _number(field: str, name: str, text: str) -> Decimal:
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = Decimal(raw[:-1].strip() if percent else raw)
    except InvalidOperation:
        raise SweepError(f"sweep {field}: {name} {raw!r} is not a number") from None
    if not value.is_finite():
        raise SweepError(f"sweep {field}: {name} {raw!r} is not a finite number")
    return value / 100 if percent else value


def grid(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, the first axis varying slowest; one empty point for none."""
    fields = [axis.field for axis in axes]
    repeated = sorted({field for field in fields if fields.count(field) > 1})
    if repeated:
        raise SweepError(f"sweep {repeated[0]}: swept more than once; give each field one --sweep")
    size = 1
    for axis in axes:
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise SweepError(f"sweep: the grid has {size} points; at most {MAX_POINTS}")
    return [
        tuple(zip(fields, values, strict=True)) for values in itertools.product(*(a.values for a in axes))
    ]


def parse_path(field: str) -> list[PathStep]:
    """`accelerators.bands[1].from` -> ["accelerators", "bands", 1, "from"]."""
    steps: list[PathStep] = []
    for segment in field.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise SweepError(
                f"sweep {field}: not a plan field path (write e.g. rates.first_order, bonuses[0].rate, "
                "accelerators.bands[1].from)"
            )
        steps.append(match.group(1))
        steps += [int(index) for index in _INDEX.findall(match.group(2))]
    if steps[0] in NOT_TERMS:
        raise SweepError(f"sweep {field}: {steps[0]} names the plan, it is not a numeric term of it")
    return steps


def vary(document: dict[str, Any], point: Point) -> dict[str, Any]:
    """A copy of the plan document with each field of the point set to its value."""
    varied = copy.deepcopy(document)
    for field, value in point:
        *parents, last = parse_path(field)
        container: Any = varied
        walked = ""
        for step in parents:
            container = _child(container, step, field, walked)
            walked = _join(walked, step)
        current = _child(container, last, field, walked)
        if isinstance(current, bool) or not isinstance(current, int | float | str):
            raise SweepError(f"sweep {field}: not a numeric term of the plan")
        if isinstance(current, str):
            try:
                Decimal(current)
            except InvalidOperation:
                raise SweepError(f"sweep {field}: not a numeric term of the plan") from None
            container[last] = value_text(value)
        elif isinstance(current, int):
            if value != value.to_integral_value():
                raise SweepError(f"sweep {field}: must be a whole number, got {value}")
            container[last] = int(value)
        else:
            container[last] = value_text(value)
    return varied


def _child(container: Any, step: PathStep, field: str, walked: str) -> Any:
    where = walked or "the plan"
    if isinstance(step, int):
        if not isinstance(container, list):
            raise SweepError(f"sweep {field}: {where} is not a list")
        if step >= len(container):
            raise SweepError(f"sweep {field}: {where} has {len(container)} entries, no [{step}]")
        return container[step]
    if not isinstance(container, dict) or step not in container or container[step] is None:
        raise SweepError(f"sweep {field}: {where} has no {step}")
    return container[step]


def _join(walked: str, step: PathStep) -> str:
    if isinstance(step, int):
        return f"{walked}[{step}]"
    return f"{walked}.{step}" if walked else step


def variant(plan: Plan, point: Point) -> Plan:
    """The plan with the point's values, validated as any published plan is."""
    if not point:
        return plan
    document = vary(plan.document(), point)
    try:
        return Plan.model_validate(document)
    except ValidationError as error:
        where = ", ".join(f"{field}={value}" for field, value in point)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'plan'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise SweepError(f"sweep {where}: plan {plan.key} would be invalid: {problems}") from None


def value_text(value: Decimal) -> str:
    """A swept value as people write it: 0.004, 90, 1.2 (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f") if value else "0"


def describe(point: Point) -> dict[str, str]:
    return {field: value_text(value) for field, value in point}
