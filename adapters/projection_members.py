"""Every projection by name, as the CLI and the rebuild worker processes build them: the commission
ledger first, then each read model of `adapters.read_models`."""

from __future__ import annotations

from adapters.ledger_projection import LedgerProjection
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_models import read_models
from adapters.settings import Settings
from commands.store import EventStore

LEDGER = "ledger"


def projection_names(settings: Settings) -> list[str]:
    return [LEDGER, *read_models(settings)]


def read_model_runner(
    store: EventStore, settings: Settings, name: str, batch_size: int = 1000
) -> ProjectionRunner:
    factories = read_models(settings)
    return ProjectionRunner(store, open_doc_view(store), factories[name], batch_size)


def projection(
    store: EventStore, settings: Settings, name: str, batch_size: int
) -> LedgerProjection | ProjectionRunner:
    if name == LEDGER:
        return LedgerProjection(store, batch_size=batch_size)
    return read_model_runner(store, settings, name, batch_size)
