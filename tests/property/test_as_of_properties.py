"""As-of views: the state of a deal at any past instant equals the aggregate rebuilt from exactly the
events recorded (or dated) up to that instant, as the event store itself gives it back."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.context import Context
from commands.executor import Executor
from domain.deal import Deal
from projections.json_text import plain
from replay.as_of import state_as_of
from tests.conftest import FixedClock
from tests.property.test_ledger_properties import execute, history, memory_store

STORE = memory_store()
execute(Executor(STORE, Context(clock=FixedClock())), history(seed=21))
DEALS = sorted(
    {
        str(e.deal_id)
        for e in (STORE.mapper.to_domain_event(n) for n in STORE.recorder.select_notifications(0, 100_000))
        if type(e).__qualname__ == "Deal.Opened"
    }
)


def _state(aggregate: Any) -> dict[str, Any]:
    state = {k: plain(v) for k, v in sorted(vars(aggregate).items()) if not k.startswith("_")}
    state["version"] = aggregate.version
    return state


@given(deal=st.sampled_from(DEALS), pick=st.floats(0, 1))
@settings(max_examples=60, deadline=None)
def test_state_as_of_a_recorded_instant_is_the_aggregate_at_that_version(deal: str, pick: float) -> None:
    aggregate_id = Deal.create_id(deal)
    events = [STORE.mapper.to_domain_event(s) for s in STORE.recorder.select_events(aggregate_id)]
    chosen = events[min(len(events) - 1, int(pick * len(events)))]
    moment = chosen.timestamp
    version = max(e.originator_version for e in events if e.timestamp <= moment)
    expected = _state(STORE.repository.get(aggregate_id, version=version))
    assert state_as_of(STORE, aggregate_id, moment, "recorded") == expected


@given(deal=st.sampled_from(DEALS), pick=st.floats(0, 1))
@settings(max_examples=60, deadline=None)
def test_state_as_of_a_business_instant_counts_exactly_the_events_dated_by_then(
    deal: str, pick: float
) -> None:
    aggregate_id = Deal.create_id(deal)
    events = [STORE.mapper.to_domain_event(s) for s in STORE.recorder.select_events(aggregate_id)]
    dated = [getattr(e, "occurred_at", e.timestamp) for e in events]
    moment = dated[min(len(dated) - 1, int(pick * len(dated)))]
    state = state_as_of(STORE, aggregate_id, moment, "business")
    assert state is not None
    counted = [e for e, when in zip(events, dated, strict=True) if when <= moment]
    # Each event counted leaves its mark: the activities folded are exactly those dated by then.
    activities: dict[str, int] = {}
    for event in counted:
        if type(event).__qualname__ == "Deal.ActivityLogged":
            activities[event.kind] = activities.get(event.kind, 0) + 1
    assert state["activities"] == activities
    if all(a <= b for a, b in itertools.pairwise(dated)):
        # Dated in the order recorded: the business view is the aggregate at that version.
        assert state == _state(STORE.repository.get(aggregate_id, version=len(counted)))
