from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import aggregate_id


class CommandReceipt(Aggregate):
    """Proof that a command_id was handled, saved atomically with what the command wrote."""

    @staticmethod
    def create_id(command_id: str) -> UUID:
        return aggregate_id("command", command_id)

    @event("Handled")
    def __init__(self, command_id: str, command_type: str, fingerprint: str, error: str | None) -> None:
        self.command_id = command_id
        self.command_type = command_type
        self.fingerprint = fingerprint
        self.error = error
