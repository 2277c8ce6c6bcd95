"""Schemathesis reads the published OpenAPI document and throws generated requests at every operation,
valid ones and invalid ones, as an admin (every command and query is reachable) and as a rep (every
row check runs): none may make the server fail (a 5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.http_client import Served, served_scenario, store_url

EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("fuzz")
    # A made-up min_position waits this long before it is refused: keep the fuzzing quick.
    with store_url("sqlite", request, folder) as url, served_scenario(url, http_wait_seconds=0.05) as served:
        yield served


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("who", ["admin", "rep"])
def test_no_generated_request_makes_the_server_fail(fuzzed: Served, who: str, mode: GenerationMode) -> None:
    published = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.client.app)
    operations = [result.ok() for result in published.get_all_operations()]
    assert len(operations) >= 14
    fuzzed_operations = 0
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def call(case: Any) -> None:
            case.call_and_validate(headers=fuzzed.headers(who), checks=[not_a_server_error])

        try:
            call()
        except Unsatisfiable:
            # Nothing to get wrong (no parameter, no body): there is no invalid request to make.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed_operations += 1
    assert fuzzed_operations >= 10
