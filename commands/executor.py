"""Runs commands: load, decide, save once; idempotent by command_id; retried on write conflicts."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from eventsourcing.persistence import IntegrityError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from commands.context import Context
from commands.dispatch import HANDLERS
from commands.models import AnyCommand
from commands.parsing import InvalidCommand, fingerprint
from commands.store import EventStore
from commands.unit_of_work import AggregateCache, SharedAggregates, UnitOfWork, save_events
from domain.errors import DomainError, GateBlocked
from domain.gate_book import GateBook
from domain.ledger_periods import LedgerPeriods
from domain.plan_book import PlanBook
from domain.receipt import ReceiptFacts, receipt_event

log = structlog.get_logger()

# blocked: refused by a gate, and the attempt itself recorded (StageMoveBlocked).
Status = Literal["applied", "blocked", "duplicate", "refused"]
MAX_ATTEMPTS = 12
FIRST_BACKOFF = 0.005  # seconds: the widest first pause after a conflict
ALWAYS_RELOAD = (GateBook, PlanBook, LedgerPeriods)


@dataclass(frozen=True)
class Outcome:
    status: Status
    error: str | None = None
    position: int | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


class CommandRetriesExhausted(RuntimeError):
    pass


class Executor:
    def __init__(self, store: EventStore, context: Context) -> None:
        self.store = store
        self.context = context
        # One for every thread that runs commands on this executor (the HTTP server's workers).
        self.shared_cache = SharedAggregates(maxsize=20_000)

    def execute(self, command: AnyCommand) -> Outcome:
        """One command in its own transaction (the API path)."""
        # Most commands meet no other writer: only a conflict engages the retry machinery.
        try:
            return self._attempt(command, first=True)
        except IntegrityError:
            time.sleep(random.uniform(0, FIRST_BACKOFF))
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(IntegrityError),
                stop=stop_after_attempt(MAX_ATTEMPTS - 1),
                # Random backoff, so two writers racing on one deal stop colliding in lockstep.
                wait=wait_random_exponential(multiplier=FIRST_BACKOFF, max=0.5),
                reraise=True,
            ):
                with attempt:
                    return self._attempt(command, first=False)
        except IntegrityError as conflict:
            raise CommandRetriesExhausted(
                f"{command.type}: still conflicting after {MAX_ATTEMPTS} attempts"
            ) from conflict
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, command: AnyCommand, first: bool) -> Outcome:
        # The first attempt trusts that new ids are new and reuses what this process saved; a clash
        # shows up as a conflict at save time, and the retry then reads everything from the store.
        uow = UnitOfWork(
            self.store,
            assume_new=first,
            shared=self.shared_cache if first else None,
            always_reload=ALWAYS_RELOAD,
        )
        outcome = _decide(command, uow, self.context)
        if outcome.status == "refused" and first:
            # A refusal writes nothing, so no version check would catch one decided on a cached copy
            # another process has since moved on from: refuse only what the store itself refuses.
            return self._attempt(command, first=False)
        if outcome.status in ("duplicate", "refused"):
            return outcome
        try:
            position = uow.commit()
        except IntegrityError as conflict:
            # Another writer saved first (same aggregate or same command_id): decide again on fresh state.
            log.info("command.conflict", command_type=command.type, error=str(conflict).splitlines()[0])
            self.shared_cache.clear()
            raise
        return Outcome(outcome.status, outcome.error, position)

    def execute_many(
        self,
        commands: Iterable[AnyCommand | InvalidCommand],
        batch_size: int = 500,
        cache: AggregateCache | None = None,
    ) -> Iterator[Outcome]:
        """Bulk path: decided commands are saved together, one transaction per batch.

        A refused command writes nothing and does not stop the batch. If the batch cannot be saved
        (a concurrent writer, an id that already existed), it is redone one command at a time.
        """
        uow = UnitOfWork(self.store, cache if cache is not None else AggregateCache(), assume_new=True)
        # While one batch is being written, the next is decided: the database wait and the
        # Python work overlap. Batches are still written one at a time, in file order.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
            in_flight: tuple[Future[int | None], list[Any], list[Outcome]] | None = None
            for batch in _batches(commands, batch_size):
                decided = self._decide_batch(batch, uow)
                if in_flight is not None:
                    written, redone = self._settle(*in_flight, uow)
                    yield from written
                    if redone:
                        # The batch just decided built on one that was not written: decide it again.
                        decided = None
                if decided is None:
                    uow.discard()
                    yield from self._one_by_one(batch)
                    in_flight = None
                    continue
                outcomes, events = decided
                in_flight = (writer.submit(save_events, self.store, events), batch, outcomes)
            if in_flight is not None:
                yield from self._settle(*in_flight, uow)[0]
        if cache is None:
            # Everything is written (or was redone and forgotten): the next commands start from it.
            uow.share_with(self.shared_cache, ALWAYS_RELOAD)

    def _decide_batch(
        self, batch: list[AnyCommand | InvalidCommand], uow: UnitOfWork
    ) -> tuple[list[Outcome], list[Any]] | None:
        outcomes: list[Outcome] = []
        try:
            for command in batch:
                if isinstance(command, InvalidCommand):
                    outcomes.append(Outcome("refused", str(command)))
                else:
                    outcomes.append(_decide(command, uow, self.context, in_batch=True))
        except _RefusalMutated:
            log.info("import.batch_redone", size=len(batch), reason="refusal_mutated")
            return None
        return outcomes, uow.take_events()

    def _settle(
        self, future: Future[int | None], batch: list[Any], outcomes: list[Outcome], uow: UnitOfWork
    ) -> tuple[list[Outcome], bool]:
        try:
            position = future.result()
        except IntegrityError as conflict:
            # Another writer, or an id that already existed: redo this batch from the store.
            log.info("import.batch_redone", size=len(batch), reason=str(conflict).splitlines()[0])
            uow.discard()
            return self._one_by_one(batch), True
        written = [
            Outcome(o.status, o.error, position if o.status in ("applied", "blocked") else None)
            for o in outcomes
        ]
        return written, False

    def _one_by_one(self, batch: list[AnyCommand | InvalidCommand]) -> list[Outcome]:
        return [
            Outcome("refused", str(command)) if isinstance(command, InvalidCommand) else self.execute(command)
            for command in batch
        ]


def _batches(commands: Iterable[AnyCommand | InvalidCommand], size: int) -> Iterator[list[Any]]:
    batch: list[AnyCommand | InvalidCommand] = []
    for command in commands:
        batch.append(command)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _RefusalMutated(RuntimeError):
    """A refused command changed an aggregate: the batch is redone from the store to stay exact."""


def _decide(command: AnyCommand, uow: UnitOfWork, ctx: Context, in_batch: bool = False) -> Outcome:
    uow.begin_command()
    receipt_key = command.command_id
    digest = fingerprint(command) if receipt_key is not None else ""
    if receipt_key is not None:
        earlier = uow.receipt(receipt_key, from_store=not uow.assume_new)
        if earlier is not None:
            return _acknowledge(earlier, receipt_key, digest)
    try:
        HANDLERS[command.type](command, uow, ctx)
    except GateBlocked as blocked:
        if receipt_key is not None:
            uow.add_receipt(receipt_event(receipt_key, command.type, digest, str(blocked)))
        uow.end_command()
        return Outcome("blocked", str(blocked))
    except DomainError as refused:
        if in_batch and uow.changed_since_begin():
            raise _RefusalMutated(str(refused)) from refused
        uow.begin_command()
        if receipt_key is not None and uow.assume_new:
            # The receipt was not looked up on the way in; a refusal may just be a replay.
            earlier = uow.receipt(receipt_key, from_store=True)
            if earlier is not None:
                return _acknowledge(earlier, receipt_key, digest)
        return Outcome("refused", str(refused))
    if receipt_key is not None:
        uow.add_receipt(receipt_event(receipt_key, command.type, digest, None))
    uow.end_command()
    return Outcome("applied")


def _acknowledge(earlier: ReceiptFacts, command_id: str, digest: str) -> Outcome:
    if earlier.fingerprint != digest:
        return Outcome(
            "refused",
            f"command_id: {command_id!r} was already used for a different {earlier.command_type} command",
        )
    return Outcome("duplicate", earlier.error)


__all__ = ["Executor", "Outcome"]
