from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses: names the field at fault and the rule broken."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class NotFound(DomainError):
    pass


class AlreadyExists(DomainError):
    pass


class GateBlocked(DomainError):
    """A refusal that is itself a fact: the blocked attempt has been recorded."""

    def __init__(self, field: str, rule: str, missing: list[dict[str, object]]) -> None:
        super().__init__(field, rule)
        self.missing = missing
