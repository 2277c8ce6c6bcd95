"""A parsed CEL condition turned once into nested Python closures, for the common part of CEL.

celpy's evaluator walks the parse tree anew for every evaluation, through a generic visitor, builds a
fresh activation from its environment's annotations, and evaluates `typing` subscriptions (hashing
large unions) at every node: a bonus condition of two comparisons took about 0.2 ms to decide, and a
ledger rebuild decides thousands of them. A program here does what celpy's evaluator does at each
node — evaluates every child as it does, calls the same function of `celpy.evaluation.base_functions`
on the same `celtypes` values — without the walk.

It answers only when it is sure to give celpy's answer: when no child evaluates to an error and
nothing raises. Anything else (an error CEL might absorb, as `false && error` is false, or one it
would report) and every construct it does not cover (function calls, macros, indexing, maps) are left
to celpy's own evaluator, which then gives the answer, or the error and its message, as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import Activation, CELEvalError, Evaluator, base_functions

# How a caller's frozen variables are read: `thaw` makes a frozen value what celpy sees, `field` is the
# frozen value of a frozen map's key (KeyError when there is none, or it is not a map).
Thaw = Callable[[Any], Any]
Field = Callable[[Any, str], Any]

_PASS_THROUGH = frozenset(
    {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication", "unary", "member"}
)
_LOGICAL = {"conditionalor": "_||_", "conditionaland": "_&&_"}
_OPERATORS: Mapping[str, Mapping[str, str]] = {
    "relation": {
        "relation_lt": "_<_",
        "relation_le": "_<=_",
        "relation_ge": "_>=_",
        "relation_gt": "_>_",
        "relation_eq": "_==_",
        "relation_ne": "_!=_",
        "relation_in": "_in_",
    },
    "addition": {"addition_add": "_+_", "addition_sub": "_-_"},
    "multiplication": {"multiplication_mul": "_*_", "multiplication_div": "_/_", "multiplication_mod": "_%_"},
}
_UNARY = {"unary_not": "!_", "unary_neg": "-_"}
# celpy's evaluator recurses a few frames per tree level: a deeper tree may exhaust the stack there
# (an error it reports) where closures would not.
_MAX_DEPTH = 64
_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")


class Unsure(Exception):
    """Raised during an evaluation whose answer is celpy's evaluator's to give."""


class _Unsupported(Exception):
    """The expression uses a construct a program does not cover."""


class _Scope:
    """One evaluation's variables: frozen, and thawed as the expression needs them. A variable the
    expression names by itself is thawed whole, as celpy does; one it only reads fields of has just
    those fields thawed, each once, so that a field read twice is the same value, as in celpy."""

    __slots__ = ("field", "fields", "frozen", "thaw", "values")

    def __init__(self, frozen: dict[str, Any], values: dict[str, Any], thaw: Thaw, field: Field) -> None:
        self.frozen = frozen
        self.values = values
        self.fields: dict[tuple[str, str], Any] = {}
        self.thaw = thaw
        self.field = field


Node = Callable[[_Scope], Any]


class Program:
    """One expression's closures, reading variables frozen by the caller."""

    def __init__(self, root: Node, whole: frozenset[str], by_field: frozenset[str], thaw: Thaw, field: Field):
        self._root = root
        self._whole = whole
        self._named = whole | by_field
        self._thaw = thaw
        self._field = field

    def evaluate(self, variables: tuple[tuple[str, Any], ...]) -> Any:
        """celpy's value of the expression for these variables, given as (name, frozen value) pairs;
        Unsure when that is for celpy's evaluator to say."""
        if not _plain_names(tuple([name for name, _ in variables])):
            raise Unsure
        named, whole, thaw = self._named, self._whole, self._thaw
        frozen = {name: value for name, value in variables if name in named}
        values = {name: thaw(value) for name, value in frozen.items() if name in whole}
        try:
            return self._root(_Scope(frozen, values, thaw, self._field))
        except Exception as error:  # an error, or one CEL might absorb: celpy's evaluator says which
            raise Unsure from error

    def decide(self, variables: tuple[tuple[str, Any], ...]) -> bool | None:
        """True or false when the expression surely is that bool; None for celpy's evaluator to decide."""
        try:
            value = self.evaluate(variables)
        except Unsure:
            return None
        return bool(value) if isinstance(value, celtypes.BoolType) else None


class _Names:
    """The variables an expression names: by themselves, or only to read a field of."""

    def __init__(self) -> None:
        self.whole: set[str] = set()
        self.by_field: set[str] = set()


def compile_program(ast: lark.Tree[lark.Token], thaw: Thaw, field: Field) -> Program | None:
    """The expression's program, or None if it uses a construct programs do not cover."""
    names = _Names()
    try:
        root = _node(ast, 0, names)
    except _Unsupported:
        return None
    return Program(root, frozenset(names.whole), frozenset(names.by_field - names.whole), thaw, field)


@lru_cache(maxsize=64)
def _plain_names(names: tuple[str, ...]) -> bool:
    """Whether celpy resolves each of these variables to its value: a plain name (a dotted one makes a
    namespace), and not the root of one of the environment's own (`google`, for protobuf types)."""
    return all(_NAME.fullmatch(name) and name not in _reserved_names() for name in names)


@lru_cache(maxsize=1)
def _reserved_names() -> frozenset[str]:
    environment = celpy.Environment()
    runner = environment.program(environment.compile("true"))
    return frozenset(runner.new_activation().identifiers.keys())


def _checked(value: Any) -> Any:
    if isinstance(value, CELEvalError):
        raise Unsure
    return value


def _node(tree: object, depth: int, names: _Names) -> Node:
    if depth > _MAX_DEPTH or not isinstance(tree, lark.Tree):
        raise _Unsupported
    data, children = tree.data, tree.children
    if len(children) == 1 and data in _PASS_THROUGH:
        return _node(children[0], depth + 1, names)
    if len(children) == 2 and data in _LOGICAL:
        return _binary(base_functions[_LOGICAL[data]], *(_node(c, depth + 1, names) for c in children))
    if len(children) == 2 and data in _OPERATORS:
        operator, right = children
        if not (isinstance(operator, lark.Tree) and len(operator.children) == 1):
            raise _Unsupported
        name = _OPERATORS[data].get(operator.data)
        if name is None:
            raise _Unsupported
        left = _node(operator.children[0], depth + 1, names)
        return _binary(base_functions[name], left, _node(right, depth + 1, names))
    if len(children) == 2 and data == "unary":
        operator, operand = children
        if not (isinstance(operator, lark.Tree) and not operator.children and operator.data in _UNARY):
            raise _Unsupported
        return _unary(base_functions[_UNARY[operator.data]], _node(operand, depth + 1, names))
    if len(children) == 3 and data == "expr":
        condition, then, otherwise = (_node(c, depth + 1, names) for c in children)
        return _conditional(base_functions["_?_:_"], condition, then, otherwise)
    if len(children) == 2 and data == "member_dot" and isinstance(children[1], lark.Token):
        variable = _variable_named(children[0])
        if variable is not None:
            names.by_field.add(variable)
            return _variable_field(variable, children[1].value)
        return _member_dot(_node(children[0], depth + 1, names), children[1].value)
    if len(children) == 1 and data == "primary":
        return _primary(children[0], depth + 1, names)
    raise _Unsupported


def _primary(child: object, depth: int, names: _Names) -> Node:
    if not isinstance(child, lark.Tree):
        raise _Unsupported
    kind, children = child.data, child.children
    if kind == "literal":
        return _literal(child)
    if kind == "paren_expr" and len(children) == 1:
        return _node(children[0], depth + 1, names)
    if kind == "ident" and len(children) == 1 and isinstance(children[0], lark.Token):
        name = children[0].value
        names.whole.add(name)
        return _variable(name)
    if kind == "list_lit" and not children:
        return _empty_list
    if kind == "list_lit" and len(children) == 1:
        items = children[0]
        if not (isinstance(items, lark.Tree) and items.data == "exprlist"):
            raise _Unsupported
        return _list([_node(item, depth + 1, names) for item in items.children])
    raise _Unsupported


def _literal(tree: lark.Tree[lark.Token]) -> Node:
    # celpy's own code makes the value, once: a literal is a scalar and none of them changes.
    try:
        value = Evaluator(tree, activation=Activation()).literal(tree)
    except Exception as error:  # a literal celpy refuses as it evaluates: it is celpy's to refuse
        raise _Unsupported from error
    if isinstance(value, CELEvalError | celtypes.ListType | celtypes.MapType):
        raise _Unsupported

    def literal(_: _Scope) -> Any:
        return value

    return literal


def _variable_named(member: object) -> str | None:
    """The variable a `member` node is, when it is a bare name."""
    if isinstance(member, lark.Tree) and member.data == "member" and len(member.children) == 1:
        primary = member.children[0]
        if isinstance(primary, lark.Tree) and primary.data == "primary" and len(primary.children) == 1:
            ident = primary.children[0]
            if isinstance(ident, lark.Tree) and ident.data == "ident" and len(ident.children) == 1:
                token = ident.children[0]
                if isinstance(token, lark.Token):
                    return str(token.value)
    return None


def _variable(name: str) -> Node:
    def variable(scope: _Scope) -> Any:
        try:
            return scope.values[name]
        except KeyError:
            raise Unsure from None

    return variable


def _variable_field(name: str, key: str) -> Node:
    slot = (name, key)

    def variable_field(scope: _Scope) -> Any:
        if name in scope.values:  # thawed whole: read as any other map
            return _field_of(scope.values[name], key)
        try:
            return scope.fields[slot]
        except KeyError:
            pass
        # No such variable, no such key, or not a map: an error, for celpy to report (KeyError).
        value = scope.fields[slot] = scope.thaw(scope.field(scope.frozen[name], key))
        return value

    return variable_field


def _member_dot(member: Node, key: str) -> Node:
    def member_dot(scope: _Scope) -> Any:
        return _field_of(member(scope), key)

    return member_dot


def _field_of(target: Any, key: str) -> Any:
    # A map's field is its key (celpy's `a.b` on a map); anything else, or no such key, is an error.
    if type(target) is not celtypes.MapType:
        raise Unsure
    return target[key]


def _binary(function: Callable[[Any, Any], Any], left: Node, right: Node) -> Node:
    def binary(scope: _Scope) -> Any:
        # Both sides, as celpy evaluates them (it does not short-circuit `&&` and `||`).
        a = _checked(left(scope))
        b = _checked(right(scope))
        return _checked(function(a, b))

    return binary


def _unary(function: Callable[[Any], Any], operand: Node) -> Node:
    def unary(scope: _Scope) -> Any:
        return _checked(function(_checked(operand(scope))))

    return unary


def _conditional(
    function: Callable[[Any, Any, Any], Any], condition: Node, then: Node, otherwise: Node
) -> Node:
    def conditional(scope: _Scope) -> Any:
        # Only the branch taken is evaluated, as celpy does; the other stays false.
        decided = _checked(condition(scope))
        left = right = celtypes.BoolType(False)
        if decided:
            left = _checked(then(scope))
        else:
            right = _checked(otherwise(scope))
        return _checked(function(decided, left, right))

    return conditional


def _empty_list(_: _Scope) -> Any:
    return celtypes.ListType()


def _list(items: list[Node]) -> Node:
    def list_literal(scope: _Scope) -> Any:
        return celtypes.ListType([_checked(item(scope)) for item in items])

    return list_literal
