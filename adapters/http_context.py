"""What every route shares: the service, tokens, the read side, and one executor for every thread."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from adapters.bootstrap import Service
from adapters.http_directory import Directory
from adapters.http_reads import ReadSide
from adapters.tokens import TokenStore
from commands.executor import Executor
from projections.funnel_benchmarks import Benchmarks


def shared_executor(service: Service) -> Executor:
    """One executor, and so one cache of what this process saved last, for every worker thread.

    Not one per thread: a thread's own cache would go stale whenever another thread saved the same
    aggregate, and a refusal decided on stale state writes nothing, so no version check would ever
    catch it (a move refused as "already in lead" after another request moved it on). The
    executor's cache is thread-safe and hands each command a copy of its own.
    """
    return Executor(service.store, service.executor.context)


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
