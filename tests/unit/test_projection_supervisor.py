"""The supervisor keeps projections going: a failing one is reloaded and retried with a growing pause,
the others carry on, and recovery resets the pause."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.projection_supervisor import Supervised, Supervisor


@dataclass
class Flaky:
    """Follows a store of `store_head` events; its first `failures` catch-ups fail like a lost database."""

    failures: int
    store_head: int = 10
    position: int = 0
    reloads: int = 0
    calls: list[str] = field(default_factory=list)

    def catch_up(self) -> int:
        self.calls.append("catch_up")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("server closed the connection unexpectedly")
        self.position = self.store_head
        return self.position

    def reload(self) -> None:
        self.reloads += 1

    def head(self) -> int:
        return self.store_head


class NoWait:
    def wait(self, timeout: float) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_failing_projection_is_retried_with_backoff_while_others_go_on() -> None:
    now = [0.0]
    flaky, steady = Flaky(failures=2), Flaky(failures=0)
    items = [Supervised("flaky", flaky), Supervised("steady", steady)]
    supervisor = Supervisor(items, waiter_factory=NoWait, clock=lambda: now[0])

    assert supervisor.step() is False
    assert steady.position == 10 and flaky.position == 0
    assert (items[0].failures, items[0].retry_at, flaky.reloads) == (1, 0.5, 1)
    assert items[0].last_error == "ConnectionError: server closed the connection unexpectedly"

    assert supervisor.step() is False  # still pausing: not even tried
    assert flaky.calls == ["catch_up"]
    now[0] = 0.5
    assert supervisor.step() is False
    assert (items[0].failures, items[0].retry_at) == (2, 1.5)  # the pause doubles

    now[0] = 1.5
    assert supervisor.step() is True
    assert flaky.position == 10
    assert (items[0].failures, items[0].last_error) == (0, None)


def test_the_pause_is_capped() -> None:
    now = [0.0]
    item = Supervised("down", Flaky(failures=100))
    supervisor = Supervisor([item], waiter_factory=NoWait, clock=lambda: now[0], max_pause=4.0)
    for _ in range(8):
        now[0] = item.retry_at
        supervisor.step()
    assert item.retry_at - now[0] == 4.0


def test_run_until_head_returns_once_everything_caught_up() -> None:
    flaky = Flaky(failures=1)
    ticks = iter(range(1000))
    supervisor = Supervisor(
        [Supervised("flaky", flaky)], waiter_factory=NoWait, clock=lambda: float(next(ticks))
    )
    supervisor.run(poll=0.01, until_head=True)
    assert flaky.position == 10
