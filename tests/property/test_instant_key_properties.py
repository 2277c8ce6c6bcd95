"""`instant_key` spells every instant as strftime does (UTC, microseconds, `Z`), whatever its zone,
year or microsecond: documents saved before it was made faster sort alike with those saved after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.read_model import instant_key

zones = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones | st.just(UTC)
)


@given(moment=instants | instants.map(lambda moment: moment.replace(microsecond=0)))
@settings(max_examples=500, deadline=None)
def test_instant_keys_are_spelled_as_strftime_spells_them(moment: datetime) -> None:
    assert instant_key(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
