"""What every route shares: the service, tokens, the read side, and one executor for every thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate
from fastapi import Request

from adapters.bootstrap import Service
from adapters.http_directory import Directory
from adapters.http_reads import ReadSide
from adapters.tokens import TokenStore
from commands.executor import Executor
from commands.unit_of_work import AggregateCache
from projections.funnel_benchmarks import Benchmarks


class ThreadSafeCache(AggregateCache):
    """The executor's cache of what this process saved last, shared by the server's worker threads.

    One cache, not one per thread: a thread's own cache would go stale whenever another thread saved
    the same aggregate, and a refusal decided on stale state writes nothing, so no version check
    would ever catch it (a move refused as "already in lead" after another request moved it on)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self._lock = threading.Lock()

    def get(self, key: UUID) -> Aggregate | None:
        with self._lock:
            return super().get(key)

    def put(self, key: UUID, aggregate: Aggregate) -> None:
        with self._lock:
            super().put(key, aggregate)

    def clear(self) -> None:
        with self._lock:
            super().clear()

    def aggregates(self) -> list[Aggregate]:
        with self._lock:
            return super().aggregates()


def shared_executor(service: Service) -> Executor:
    executor = Executor(service.store, service.executor.context)
    executor.shared_cache = ThreadSafeCache(executor.shared_cache.maxsize)
    return executor


@dataclass
class Api:
    service: Service
    tokens: TokenStore
    directory: Directory
    reads: ReadSide
    benchmarks: Benchmarks
    executor: Executor


def api(request: Request) -> Api:
    found: Api = request.app.state.api
    return found
