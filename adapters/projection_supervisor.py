"""Keeps projections following the store: a projection that fails (the database went away, a fold that
raises) is logged, reloaded from what it saved and retried with a growing pause, while the others go
on. The ledger never parks an event, so a fold error halts it here until someone fixes the cause."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class Follower(Protocol):
    @property
    def position(self) -> int: ...

    def catch_up(self) -> int: ...

    def reload(self) -> None: ...

    def head(self) -> int: ...


class Waiter(Protocol):
    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


@dataclass
class Supervised:
    name: str
    follower: Follower
    failures: int = 0
    retry_at: float = 0.0
    last_error: str | None = None


@dataclass
class Supervisor:
    followers: list[Supervised]
    waiter_factory: Callable[[], Waiter]
    clock: Callable[[], float] = time.monotonic
    max_pause: float = 30.0
    waiter: Waiter | None = field(default=None, init=False)

    def step(self) -> bool:
        """One round over every projection due; True when all of them are at the store's head."""
        all_caught_up = True
        now = self.clock()
        for item in self.followers:
            if now < item.retry_at:
                all_caught_up = False
                continue
            try:
                item.follower.catch_up()
                caught_up = item.follower.position >= item.follower.head()
            except Exception as failure:  # any failure: keep the others going, retry this one later
                self._failed(item, failure, now)
                all_caught_up = False
                continue
            if item.failures:
                log.info("projection.recovered", projection=item.name, after_failures=item.failures)
            item.failures, item.last_error = 0, None
            all_caught_up = all_caught_up and caught_up
        return all_caught_up

    def _failed(self, item: Supervised, failure: Exception, now: float) -> None:
        item.failures += 1
        item.last_error = f"{type(failure).__name__}: {failure}"
        pause = min(self.max_pause, 0.5 * 2 ** (item.failures - 1))
        item.retry_at = now + pause
        log.error(
            "projection.failed",
            projection=item.name,
            failures=item.failures,
            retry_in_s=pause,
            error=item.last_error,
        )
        try:
            # What was saved is consistent (tracking and documents commit together); start from it.
            item.follower.reload()
        except Exception as again:  # the database may still be away: the next round tries again
            log.warning("projection.reload_failed", projection=item.name, error=str(again))

    def wait(self, timeout: float) -> None:
        try:
            if self.waiter is None:
                self.waiter = self.waiter_factory()
            self.waiter.wait(timeout)
        except Exception as failure:  # a lost LISTEN connection: poll this round, reconnect next
            log.warning("projection.wait_failed", error=str(failure))
            self.close()
            time.sleep(timeout)

    def run(self, poll: float, until_head: bool = False) -> None:
        while True:
            caught_up = self.step()
            if until_head and caught_up:
                return
            self.wait(poll)

    def close(self) -> None:
        if self.waiter is not None:
            try:
                self.waiter.close()
            finally:
                self.waiter = None
