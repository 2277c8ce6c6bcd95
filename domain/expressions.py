"""Bonus conditions: CEL text checked when a plan is published and evaluated per credited order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from math import copysign
from typing import Any, NamedTuple, cast

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError

from domain.cel_program import Program, compile_program

# Bonus conditions are CEL (a sandboxed, side-effect-free expression language);
# they are parsed once when a plan is published and never handed to eval.
_ENVIRONMENT = celpy.Environment()

# The one shape a condition ever sees: publish-time checking evaluates against it, so a
# typo or a non-bool condition is refused when the plan is published, not on payday.
SAMPLE_VARIABLES: Mapping[str, Mapping[str, object]] = {
    "order": {
        "order_id": "o-sample",
        "deal_id": "d-sample",
        "customer_id": "c-sample",
        "amount": 120000.0,
        "gross_margin": 60000.0,
        "signed_on": "2026-04-15",
        "first_order": True,
        "credited_amount": 60000.0,
        "credited_margin": 30000.0,
        "share": 0.5,
    },
    "deal": {
        "deal_id": "d-sample",
        "customer_id": "c-sample",
        "owner_rep_id": "r-sample",
        "expected_amount": 120000.0,
        "stage": "negotiation",
    },
    "customer": {
        "customer_id": "c-sample",
        "name": "Sample Co",
        "industry": "manufacturing",
        "region": "east",
        "tags": ["key-account"],
    },
    "rep": {"rep_id": "r-sample", "name": "Sample Rep", "role": "ka", "team": "team-a", "region": "east"},
}
KNOWN_FIELDS: Mapping[str, frozenset[str]] = {
    variable: frozenset(fields) for variable, fields in SAMPLE_VARIABLES.items()
}


class _Compiled(NamedTuple):
    ast: lark.Tree[lark.Token]
    runner: celpy.Runner
    # The same expression as closures, when it keeps to the CEL they cover: celpy's answer, faster.
    program: Program | None


def check_expression(text: str) -> None:
    """Raises ValueError if the expression does not parse, names an unknown field or is not a condition."""
    if not text.strip():
        raise ValueError("expression is empty")
    compiled = _compile(text)
    unknown = sorted(_unknown_fields(compiled.ast))
    if unknown:
        known = "; ".join(
            f"{variable}: {', '.join(sorted(KNOWN_FIELDS[variable]))}" for variable in KNOWN_FIELDS
        )
        names = ", ".join(unknown)
        raise ValueError(
            f"CEL expression refers to unknown field {names} (known fields are {known}): {text!r}"
        )
    try:
        evaluate_condition(text, SAMPLE_VARIABLES)
    except ValueError as error:
        raise ValueError(f"{error} (checked against a sample order)") from error


def evaluate_condition(text: str, variables: Mapping[str, Mapping[str, object]]) -> bool:
    """True or false for these variables; ValueError if the expression fails or yields a non-bool."""
    # A condition is a pure function of its text and variables, and a replay asks the same question
    # many times (every recomputation of a period re-decides its orders): answers are memoised,
    # keyed by the variables as CEL will see them. Failures are not memoised; they raise each time.
    frozen = tuple([(name, _freeze(value)) for name, value in variables.items()])
    return _evaluate(text, frozen)


def freeze(value: object) -> Frozen:
    """A variable's value as a condition sees it; ValueError if it cannot see a value of that type.
    A caller deciding many conditions over the same values freezes each once (`decide_frozen`)."""
    return _freeze(value)


def decide_frozen(text: str, variables: tuple[tuple[str, Frozen], ...]) -> bool:
    """`evaluate_condition` of the variables frozen beforehand (by `freeze`), in the same order."""
    return _evaluate(text, variables)


@lru_cache(maxsize=1 << 16)
def _evaluate(text: str, frozen: tuple[tuple[str, _Frozen], ...]) -> bool:
    compiled = _compile(text)
    if compiled.program is not None:
        decided = compiled.program.decide(frozen)
        if decided is not None:
            return decided
    # Not decided there (an error, a value that is not a bool, a construct it does not cover):
    # celpy's evaluator decides, and says what is wrong.
    runner = compiled.runner
    activation = {name: _thaw(value) for name, value in frozen}
    try:
        result = runner.evaluate(activation)
    # The expression is plan data, not code we wrote: whatever breaks inside it is the plan's problem.
    except Exception as error:
        problem = error.args[0] if error.args and isinstance(error.args[0], str) else repr(error)
        # celpy appends its whole activation to an undeclared-name message: keep the part a person reads.
        problem = problem.split(" (in activation", 1)[0]
        if "overload" in problem:
            problem += " (every number a condition sees is a double: write 2.0, not 2)"
        raise ValueError(f"CEL expression {text!r} fails to evaluate: {problem}") from error
    if not isinstance(result, celtypes.BoolType):
        raise ValueError(f"CEL expression {text!r} must yield true or false, not {_cel_type_name(result)}")
    return bool(result)


@lru_cache(maxsize=256)
def _compile(text: str) -> _Compiled:
    try:
        ast = _ENVIRONMENT.compile(text)
    except CELParseError as error:
        line = getattr(error, "line", None)
        column = getattr(error, "column", None)
        where = f" at line {line}, column {column}" if line is not None else ""
        raise ValueError(f"CEL expression does not parse{where}: {text!r}") from error
    return _Compiled(ast, _ENVIRONMENT.program(ast), compile_program(ast, _thaw, _field))


def _unknown_fields(ast: lark.Tree[lark.Token]) -> set[str]:
    """`variable.field` selections naming no known field, including ones a sample run short-circuits past."""
    unknown = set()
    for node in ast.iter_subtrees():
        if node.data != "member_dot":
            continue
        target, field = node.children
        variable = _variable_name(target)
        if variable is not None and variable in KNOWN_FIELDS and str(field) not in KNOWN_FIELDS[variable]:
            unknown.add(f"{variable}.{field}")
    return unknown


def _variable_name(member: object) -> str | None:
    """The identifier a `member` node is, when it is a bare top-level name."""
    if not (isinstance(member, lark.Tree) and member.data == "member" and len(member.children) == 1):
        return None
    primary = member.children[0]
    if not (isinstance(primary, lark.Tree) and primary.data == "primary" and len(primary.children) == 1):
        return None
    ident = primary.children[0]
    if isinstance(ident, lark.Tree) and ident.data == "ident" and len(ident.children) == 1:
        return str(ident.children[0])
    return None


# A variable's value as CEL sees it, hashable: a plain str is a string (by far the most common
# value), anything else but null is a (kind, payload) tuple with kind one of the tags below.
_Frozen = str | tuple[Any, ...] | None
Frozen = _Frozen
_BOOL, _DOUBLE, _STRING, _MAP, _LIST = "bool", "double", "string", "map", "list"


def _freeze(value: object) -> _Frozen:
    # Exact str and dict first: they are nearly every value a condition sees.
    kind = type(value)
    if kind is str:
        return cast("str", value)
    if kind is dict:
        items = cast("dict[object, object]", value).items()
        # A str key or value as it is, without a call: this is most of the freezing a condition costs.
        return (
            _MAP,
            tuple(
                [
                    (
                        key if type(key) is str else str(key),
                        item if type(item) is str else _freeze(item),
                    )
                    for key, item in items
                ]
            ),
        )
    if kind is Decimal or kind is float:
        return _double(cast("Decimal | float", value))
    if value is None:
        return None
    if isinstance(value, bool):
        return (_BOOL, value)
    # Every number is a double, so `order.amount > 1000` and `deal.expected_amount * 1.5`
    # work whether the fact was stored as int, float or Decimal.
    if isinstance(value, int | float | Decimal):
        return _double(value)
    if isinstance(value, str):
        return (_STRING, value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return (_MAP, tuple([(str(key), _freeze(item)) for key, item in value.items()]))
    if isinstance(value, list | tuple):
        return (_LIST, tuple([_freeze(item) for item in value]))
    raise ValueError(f"a condition cannot see a value of type {type(value).__name__}: {value!r}")


def _double(value: int | float | Decimal) -> _Frozen:
    number = float(value)
    # 0.0 and -0.0 are equal as keys but not to CEL (1.0 / x): the sign goes into the key.
    return (_DOUBLE, number, copysign(1.0, number)) if number == 0 else (_DOUBLE, number)


def _thaw(frozen: _Frozen) -> celtypes.Value:
    if frozen is None:
        return None
    if isinstance(frozen, str):
        return celtypes.StringType(frozen)
    kind, payload = frozen[0], frozen[1]
    if kind == _BOOL:
        return celtypes.BoolType(payload)
    if kind == _DOUBLE:
        return celtypes.DoubleType(payload)
    if kind == _STRING:
        return celtypes.StringType(payload)
    if kind == _MAP:
        return celtypes.MapType({celtypes.StringType(key): _thaw(item) for key, item in payload})
    return celtypes.ListType([_thaw(item) for item in payload])


def _field(frozen: _Frozen, key: str) -> _Frozen:
    """The frozen value of a frozen map's key, as the map thawed holds it (the last, if given twice);
    KeyError if there is none, or the value is not a map."""
    if type(frozen) is tuple and frozen[0] == _MAP:
        for name, value in reversed(frozen[1]):
            if name == key:
                return cast("_Frozen", value)
    raise KeyError(key)


def _cel_type_name(value: object) -> str:
    if value is None:
        return "null"
    return type(value).__name__.removesuffix("Type").lower()
