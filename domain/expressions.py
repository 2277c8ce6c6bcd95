from __future__ import annotations

import celpy
from celpy.celparser import CELParseError

# Bonus conditions are CEL (a sandboxed, side-effect-free expression language);
# they are parsed once when a plan is published and never handed to eval.
_ENVIRONMENT = celpy.Environment()


def check_expression(text: str) -> None:
    """Raises ValueError pointing at the line and column where the expression stops parsing."""
    if not text.strip():
        raise ValueError("expression is empty")
    try:
        _ENVIRONMENT.compile(text)
    except CELParseError as error:
        line = getattr(error, "line", None)
        column = getattr(error, "column", None)
        where = f" at line {line}, column {column}" if line is not None else ""
        raise ValueError(f"CEL expression does not parse{where}: {text!r}") from error
