from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import aggregate_id


class CommandReceipt(Aggregate):
    """Proof that a command_id was handled, saved atomically with what the command wrote."""

    class Handled(Aggregate.Created):
        command_id: str
        command_type: str
        fingerprint: str
        error: str | None

    @staticmethod
    def create_id(command_id: str) -> UUID:
        return aggregate_id("command", command_id)

    @event(Handled)
    def __init__(self, command_id: str, command_type: str, fingerprint: str, error: str | None) -> None:
        self.command_id = command_id
        self.command_type = command_type
        self.fingerprint = fingerprint
        self.error = error


class ReceiptFacts(Protocol):
    """What acknowledging a repeated command_id reads, from a stored receipt or one just recorded."""

    @property
    def command_type(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def error(self) -> str | None: ...


_TOPIC = f"{CommandReceipt.__module__}:{CommandReceipt.__qualname__}"


def receipt_event(
    command_id: str, command_type: str, fingerprint: str, error: str | None
) -> CommandReceipt.Handled:
    """The one event `CommandReceipt(...)` records, built without constructing the aggregate.

    A receipt is written once per command and never changed afterwards, so the aggregate's
    construction machinery (a large share of a bulk import's per-command work) buys nothing.
    """
    # The library makes event classes dataclasses at run time, out of the type checker's sight.
    fields: dict[str, Any] = {
        "originator_id": CommandReceipt.create_id(command_id),
        "originator_version": 1,
        "timestamp": CommandReceipt.Handled.create_timestamp(),
        "originator_topic": _TOPIC,
        "command_id": command_id,
        "command_type": command_type,
        "fingerprint": fingerprint,
        "error": error,
    }
    return CommandReceipt.Handled(**fields)
