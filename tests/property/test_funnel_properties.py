"""The funnel fold makes its documents' changes once a batch, from what the batch left: whatever the
batch size, the read model is the same; and its shortcuts spell keys as the slower ways did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.context import Context
from commands.executor import Executor
from domain.periods import period_of
from projections.funnel import TOPICS, FunnelHealth
from projections.json_text import dumps
from tests.conftest import FixedClock
from tests.property.test_ledger_properties import execute, history, memory_store


def _events(seed: int) -> list[Any]:
    store = memory_store()
    execute(Executor(store, Context(clock=FixedClock())), history(seed=seed))
    notifications = store.recorder.select_notifications(0, 100_000, topics=TOPICS)
    return [store.mapper.to_domain_event(n) for n in notifications]


EVENTS = {seed: _events(seed) for seed in (3, 17)}


def _read_model(events: list[Any], batch_size: int) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The documents left by folding `events` in batches of `batch_size`, as the runner would save them:
    each batch's changes encoded when they are taken (the fold goes on changing its documents)."""
    model = FunnelHealth()
    saved: dict[tuple[str, str], tuple[str, str, str]] = {}
    for position, event in enumerate(events, start=1):
        model.apply(event, position)
        if position % batch_size == 0 or position == len(events):
            for change in model.take_changes():
                if change.doc is None:
                    saved.pop((change.kind, change.key), None)
                else:
                    saved[(change.kind, change.key)] = (change.part, change.sort, dumps(change.doc))
    return saved


@given(seed=st.sampled_from(sorted(EVENTS)), batch_size=st.integers(1, 400))
@settings(max_examples=12, deadline=None)
def test_any_batch_size_leaves_the_read_model_of_one_batch(seed: int, batch_size: int) -> None:
    events = EVENTS[seed]
    whole = _read_model(events, len(events))
    assert {kind for kind, _ in whole} >= {"cell", "follow", "quality", "stay", "deal", "rep"}
    assert _read_model(events, batch_size) == whole


def test_a_batch_of_one_event_leaves_the_read_model_of_one_batch() -> None:
    events = EVENTS[3]
    assert _read_model(events, 1) == _read_model(events, len(events))


zones = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones | st.just(UTC)
)


@given(moment=instants)
@settings(max_examples=300, deadline=None)
def test_an_iso_instant_begins_with_its_period(moment: datetime) -> None:
    assert moment.isoformat()[:7] == period_of(moment)
