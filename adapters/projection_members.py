"""Every projection by name, as the CLI and the rebuild worker processes build them: the commission
ledger first, then each read model of `adapters.read_models`."""

from __future__ import annotations

from adapters.ledger_projection import LedgerProjection
from adapters.projection_runner import ProjectionRunner, open_doc_view
from adapters.read_models import read_models
from adapters.settings import Settings
from commands.store import EventStore

LEDGER = "ledger"
# Events per batch when a projection is rebuilt from empty (each batch saved with its position). A fold
# rewrites every document a batch changed (a customer's, a funnel cell's) once per batch, so fewer,
# larger batches write less: over 1,006,478 events, rebuilding every projection over two workers took
# 58-60 s in batches of 2,000, 37-45 s in batches of 20,000, and 28.5 s against 34.0 s in batches of
# 100,000 against 20,000 (one run each, same store). A rebuild killed mid-batch loses at most that much
# folding (a few seconds) and goes on from the batch saved before.
REBUILD_BATCH_SIZE = 100_000


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
