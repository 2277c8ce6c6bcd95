"""A condition's closures (domain/cel_program.py) answer exactly as celpy's evaluator, or not at all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain import expressions
from domain.cel_program import Unsure, compile_program
from domain.expressions import _field, _freeze, _thaw, evaluate_condition

PROPERTY = settings(max_examples=600, deadline=None)

PATHS = [
    "order.amount",
    "order.gross_margin",
    "order.first_order",
    "order.share",
    "order.signed_on",
    "order.no_such_field",
    "order",
    "deal.stage",
    "deal.expected_amount",
    "deal.owner_rep_id",
    "customer.region",
    "customer.tags",
    "customer.tags.first",
    "customer.nested.level",
    "rep.role",
    "rep.team",
    "unknown_name",
    "int",
]
LITERALS = ["0", "2", "50000", "1.5", "0.0", "50000.0", "3u", "'east'", "'ka'", "''", "true", "false", "null"]
BINARY = ["&&", "||", "<", "<=", ">", ">=", "==", "!=", "in", "+", "-", "*", "/", "%"]
# Constructs the closures leave to celpy: they must still come out the same.
ELSEWHERE = ["size({})", "has({}.x)", "{}[0]", "customer.tags.exists(t, t == {})", "{{'a': {}}}", "dyn({})"]


def expressions_text() -> st.SearchStrategy[str]:
    atoms = st.sampled_from(PATHS + LITERALS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"!{e}"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
            st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
            st.tuples(st.sampled_from(ELSEWHERE), inner).map(lambda t: t[0].format(t[1])),
        )

    return st.recursive(atoms, extend, max_leaves=8)


def conditions_text() -> st.SearchStrategy[str]:
    """Mostly well-typed conditions, as plans write them: numbers (all doubles) compared, strings
    matched, bools combined; now and then a field a variable lacks."""
    numeric_atoms = st.sampled_from(
        ["order.amount", "order.gross_margin", "order.share", "deal.expected_amount", "1.5", "0.0", "50000.0"]
    )
    numeric = st.recursive(
        numeric_atoms,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda e: f"-{e}"),
        ),
        max_leaves=4,
    )
    text = st.sampled_from(["deal.stage", "customer.region", "rep.role", "'east'", "'ka'", "'won'"])
    comparisons = st.one_of(
        st.tuples(numeric, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numeric).map(" ".join),
        st.tuples(text, st.sampled_from(["==", "!="]), text).map(" ".join),
        text.map(lambda t: f"{t} in ['east', 'ka', 'x']"),
        text.map(lambda t: f"{t} in customer.tags"),
        st.sampled_from(["order.first_order", "true", "false", "order.no_such_field > 1.0"]),
    )
    return st.recursive(
        comparisons,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["&&", "||"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"!({e})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        ),
        max_leaves=6,
    )


any_text = st.one_of(expressions_text(), conditions_text())


numbers = st.one_of(
    st.integers(-3, 100_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal(-100_000), max_value=Decimal(100_000), places=2),
    st.sampled_from([0, 0.0, -0.0, Decimal(0), 50000, Decimal("50000.00")]),
)
scalars = st.one_of(numbers, st.booleans(), st.sampled_from(["east", "ka", "won", "", "x"]), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["level", "first", "x"]), inner, max_size=2),
    ),
    max_leaves=4,
)


@st.composite
def variables(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, fields in {
        "order": ["amount", "gross_margin", "first_order", "share", "signed_on"],
        "deal": ["stage", "expected_amount", "owner_rep_id"],
        "customer": ["region", "tags", "nested"],
        "rep": ["role", "team"],
    }.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # a variable missing altogether
        if draw(st.integers(0, 19)) == 0:
            found[name] = draw(scalars)  # not a map
            continue
        found[name] = {field: draw(values) for field in fields if draw(st.integers(0, 7))}
    return found


@st.composite
def typed_variables(draw: st.DrawFn) -> dict[str, Any]:
    """Variables of the shape conditions see: numbers, strings, a bool, a list of strings."""
    number = st.one_of(numbers.filter(lambda n: n == n), st.sampled_from([50000, Decimal("0.5")]))
    word = st.sampled_from(["east", "ka", "won", "x"])
    return {
        "order": {
            "amount": draw(number),
            "gross_margin": draw(number),
            "share": draw(number),
            "first_order": draw(st.booleans()),
        },
        "deal": {"stage": draw(word), "expected_amount": draw(number)},
        "customer": {"region": draw(word), "tags": draw(st.lists(word, max_size=3))},
        "rep": {"role": draw(word)},
    }


any_variables = st.one_of(variables(), typed_variables())


def celpy_outcome(text: str, variables: dict[str, Any]) -> tuple[str, Any]:
    """What celpy's evaluator alone makes of it: a value, or the exception's type and message."""
    runner = expressions._compile(text).runner
    activation = {name: _thaw(_freeze(value)) for name, value in variables.items()}
    try:
        return "value", runner.evaluate(activation)
    except Exception as error:
        return "error", (type(error), str(error))


def compiled(text: str) -> Any:
    try:
        return expressions._compile(text)
    except ValueError:
        return None


@PROPERTY
@given(any_text, any_variables)
def test_a_program_answers_as_celpy_or_leaves_it_to_celpy(text: str, variables: dict[str, Any]) -> None:
    found = compiled(text)
    assume(found is not None)
    program = compile_program(found.ast, _thaw, _field)
    if program is None:
        return
    frozen = tuple((name, _freeze(value)) for name, value in variables.items())
    try:
        quick = program.evaluate(frozen)
    except Unsure:
        return
    kind, expected = celpy_outcome(text, variables)
    assert kind == "value"
    assert type(quick) is type(expected)
    assert repr(quick) == repr(expected)


def legacy_decision(text: str, variables: dict[str, Any]) -> tuple[str, Any]:
    """evaluate_condition as it was before programs: celpy's evaluator only."""
    kind, value = celpy_outcome(text, variables)
    if kind == "error":
        return kind, value[0]
    if not isinstance(value, expressions.celtypes.BoolType):
        return "error", ValueError
    return "value", bool(value)


@PROPERTY
@given(any_text, any_variables)
def test_conditions_decide_as_celpy_alone_decided_them(text: str, variables: dict[str, Any]) -> None:
    assume(compiled(text) is not None)
    expressions._evaluate.cache_clear()
    try:
        decided: tuple[str, Any] = ("value", evaluate_condition(text, variables))
    except ValueError:
        decided = ("error", ValueError)
    expected = legacy_decision(text, variables)
    if expected[0] == "error":
        # celpy's own failures reach the caller as ValueError, with its message.
        assert decided == ("error", ValueError)
    else:
        assert decided == expected


SAMPLE = {
    "order": {"first_order": True, "gross_margin": Decimal("60000.00"), "credited_amount": Decimal("50000")},
    "deal": {"stage": "won"},
    "customer": {"region": "east", "tags": ["key-account"]},
    "rep": {"role": "ka", "team": "team-a"},
}


@pytest.mark.parametrize(
    "text",
    [
        "order.first_order && order.gross_margin >= 50000",
        "rep.role == 'ka' && order.credited_amount >= 50000.0",
        "deal.stage == 'won'",
        "customer.region in ['east', 'west'] || !(rep.team == 'team-b')",
        "order.first_order ? order.gross_margin * 1.5 > 80000.0 : false",
    ],
)
def test_the_conditions_plans_use_are_decided_by_their_program(text: str) -> None:
    program = compile_program(expressions._compile(text).ast, _thaw, _field)
    assert program is not None
    frozen = tuple((name, _freeze(value)) for name, value in SAMPLE.items())
    quick = program.evaluate(frozen)
    assert celpy_outcome(text, SAMPLE) == ("value", quick)
    assert program.decide(frozen) is bool(quick)


def test_an_error_celpy_absorbs_is_left_to_celpy() -> None:
    # `false && error` is false in CEL: the program does not guess, celpy says so.
    text = "order.no_such_field > 1.0 && false"
    program = compile_program(expressions._compile(text).ast, _thaw, _field)
    assert program is not None
    assert program.decide((("order", _freeze({"amount": 1})),)) is None
    expressions._evaluate.cache_clear()
    assert evaluate_condition(text, {"order": {"amount": 1}}) is False


def test_a_variable_named_like_a_celpy_namespace_is_left_to_celpy() -> None:
    program = compile_program(expressions._compile("google == 'x'").ast, _thaw, _field)
    assert program is not None
    assert program.decide((("google", "x"),)) is None


class Spelled:
    """A key that is not a str but reads as one: frozen, it collides with that str."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def test_a_field_given_twice_reads_as_celpy_reads_it() -> None:
    text = "customer.region == 'west' && customer.region != 'east'"
    variables = {"customer": {"region": "east", Spelled("region"): "west"}}
    program = compile_program(expressions._compile(text).ast, _thaw, _field)
    assert program is not None
    frozen = tuple((name, _freeze(value)) for name, value in variables.items())
    assert celpy_outcome(text, variables) == ("value", program.evaluate(frozen))
    assert program.decide(frozen) is True
