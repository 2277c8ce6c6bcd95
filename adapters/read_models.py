"""Every read model the service runs besides the commission ledger, by name, built from settings."""

from __future__ import annotations

from collections.abc import Callable

from adapters.customer_360_model import customer_360
from adapters.settings import Settings
from projections.audit_trail import AuditTrail
from projections.collaboration import CollaborationBoard
from projections.customer_service import CustomerService
from projections.funnel import FunnelHealth
from projections.read_model import ReadModel


def read_models(settings: Settings) -> dict[str, Callable[[], ReadModel]]:
    return {
        "audit": AuditTrail,
        "customer360": customer_360(settings),
        "collaboration": CollaborationBoard,
        "service": CustomerService,
        "funnel": FunnelHealth,
    }
