"""Every read model the service runs besides the commission ledger, by name, built from settings."""

from __future__ import annotations

from collections.abc import Callable

from adapters.settings import Settings
from projections.audit_trail import AuditTrail
from projections.read_model import ReadModel


def read_models(settings: Settings) -> dict[str, Callable[[], ReadModel]]:
    return {
        "audit": AuditTrail,
    }
