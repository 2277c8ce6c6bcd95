"""The composition root: settings, clock, store and executor wired in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from adapters.logging import configure_logging
from adapters.persistence import open_store
from adapters.settings import Settings
from commands.context import Context
from commands.executor import Executor
from commands.store import EventStore
from domain.contract import ClauseRules


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Service:
    settings: Settings
    store: EventStore
    executor: Executor

    def close(self) -> None:
        self.store.close()


def bootstrap(database_url: str | None = None, settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    configure_logging(settings.log_level, settings.log_format)
    store = open_store(settings.database_url)
    context = Context(
        clock=system_clock,
        sla_hours=settings.sla_hours,
        clause_rules=ClauseRules(settings.max_payment_term_days, Decimal(settings.max_penalty_ratio)),
        first_touch_hours=settings.first_touch_hours,
    )
    return Service(settings, store, Executor(store, context))
