from __future__ import annotations

import threading

from adapters.persistence import open_store
from commands.context import Context
from commands.executor import Executor
from commands.parsing import parse_command
from commands.store import EventStore
from domain.deal import Deal
from tests.builders import activity, given, move, open_deal, org, run, token
from tests.conftest import FixedClock, event_count


def test_repeated_command_id_is_acknowledged_across_restarts(database_url: str, clock: FixedClock) -> None:
    t = token()
    command = activity(t, "call") | {"command_id": f"once-{t}"}
    first = open_store(database_url)
    given(Executor(first, Context(clock=clock)), *org(t), open_deal(t))
    [applied] = run(Executor(first, Context(clock=clock)), command)
    first.close()

    second = open_store(database_url)  # a new process, as far as the store is concerned
    before = event_count(second)
    [again] = run(Executor(second, Context(clock=clock)), command)
    [misused] = run(Executor(second, Context(clock=clock)), command | {"kind": "demo"})
    assert (applied.status, again.status) == ("applied", "duplicate")
    assert misused.status == "refused"
    assert misused.error == f"command_id: 'once-{t}' was already used for a different LogActivity command"
    assert event_count(second) == before
    second.close()


def test_two_writers_on_one_deal_lose_no_update(database_url: str, clock: FixedClock) -> None:
    t = token()
    setup = open_store(database_url)
    given(Executor(setup, Context(clock=clock)), *org(t), open_deal(t))
    setup.close()
    per_writer = 15
    stores: list[EventStore] = [open_store(database_url) for _ in range(2)]
    errors: list[BaseException] = []

    def write(store: EventStore, kind: str) -> None:
        executor = Executor(store, Context(clock=clock))
        try:
            for _ in range(per_writer):
                outcome = executor.execute(parse_command(activity(t, kind)))
                assert outcome.status == "applied", outcome.error
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(s, k)) for s, k in zip(stores, ["call", "demo"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    deal = stores[0].repository.get(Deal.create_id(f"d-{t}"))
    assert deal.activities == {"call": per_writer, "demo": per_writer}
    for store in stores:
        store.close()


def test_a_process_with_a_stale_copy_does_not_refuse_what_the_store_allows(
    database_url: str, clock: FixedClock
) -> None:
    t = token()
    first, second = open_store(database_url), open_store(database_url)
    stale, fresh = Executor(first, Context(clock=clock)), Executor(second, Context(clock=clock))
    given(stale, *org(t), open_deal(t))  # the first process now holds the deal, in lead, in its cache
    given(fresh, activity(t, "call"), move(t, "qualified"))
    # In the first process's copy the deal is still in lead; in the store it is qualified.
    [back] = run(stale, move(t, "lead") | {"occurred_at": "2026-01-20T09:00:00+08:00"})
    assert back.status == "applied", back.error
    first.close()
    second.close()
