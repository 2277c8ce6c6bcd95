"""What the dashboard reads besides the API it shares: the heat map and flow routes (the same documents
as the CLI prints, for the same roles as attribution), and the static pages, served from this process
only, under a Content-Security-Policy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.http_dashboard import STATIC
from tests.cli import salesledger
from tests.http_client import ROLES, Served, served_scenario, store_url

READERS = {"manager", "auditor", "admin"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with (
        store_url(request.param, request, tmp_path_factory.mktemp("charts")) as url,
        served_scenario(url) as s,
    ):
        yield s


def cli_json(api: Served, *args: str) -> dict[str, Any]:
    done = salesledger(api.url, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def answer(api: Served, who: str, path: str) -> dict[str, Any]:
    response = api.client.get(path, headers=api.headers(who))
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    assert document.pop("position") > 0
    return document


@pytest.mark.parametrize("path", ["/analytics/heatmap", "/analytics/flows"])
def test_chart_data_is_for_the_roles_that_read_attribution(api: Served, path: str) -> None:
    for who in ROLES:
        response = api.client.get(path, headers=api.headers(who))
        if who in READERS:
            assert response.status_code == 200, (who, response.text)
        else:
            assert response.status_code == 403, (who, response.text)
            assert response.json()["field"] == "role"
    assert api.client.get(path).status_code == 401


def test_the_heat_map_is_what_the_cli_prints(api: Served) -> None:
    served = answer(api, "manager", "/analytics/heatmap?periods=2026-01..2026-03")
    assert served == cli_json(api, "heatmap", "--periods", "2026-01..2026-03")
    assert served["total"]["deals"] > 0 and served["cells"]
    everything = answer(api, "admin", "/analytics/heatmap")
    assert everything["periods"] is None and everything == cli_json(api, "heatmap")


def test_the_flows_are_what_the_cli_prints(api: Served) -> None:
    served = answer(api, "auditor", "/analytics/flows?by=region&periods=2026-01..2026-02&bands=10000,60000")
    printed = cli_json(
        api, "flows", "--by", "region", "--periods", "2026-01..2026-02", "--bands", "10000,60000"
    )
    assert served == printed
    assert served["by"] == "region" and {node["level"] for node in served["nodes"]} == {
        "region", "stage", "outcome", "margin",
    }  # fmt: skip
    assert answer(api, "admin", "/analytics/flows") == cli_json(api, "flows")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/analytics/heatmap?periods=2026-13", "periods"),
        ("/analytics/heatmap?periods=2026-03..2026-01", "periods"),
        ("/analytics/flows?periods=soon", "periods"),
        ("/analytics/flows?bands=lots", "bands"),
        ("/analytics/flows?bands=NaN", "bands"),
        ("/analytics/flows?bands=60000,10000", "bands"),
        ("/analytics/flows?bands=-5", "bands"),
        ("/analytics/flows?by=planet", "by"),
    ],
)
def test_bad_chart_parameters_name_the_field(api: Served, path: str, field: str) -> None:
    response = api.client.get(path, headers=api.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field and response.json()["rule"]


PAGES = sorted(path.name for path in STATIC.glob("*.html"))


def test_every_page_is_served_under_the_content_security_policy(api: Served) -> None:
    assert len(PAGES) == 9
    for page in PAGES:
        response = api.client.get(f"/static/{page}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    charts = api.client.get("/static/vendor/echarts/echarts.min.js")
    assert charts.status_code == 200 and "javascript" in charts.headers["content-type"]
    assert api.client.get("/static/../pyproject.toml").status_code == 404


def test_the_pages_load_nothing_from_another_origin() -> None:
    own = [*STATIC.glob("*.html"), *STATIC.glob("js/*.js"), *STATIC.glob("css/*.css")]
    for path in own:
        text = Path(path).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path
    assert (STATIC / "vendor" / "echarts" / "LICENSE").is_file()


def test_the_dashboard_is_not_part_of_the_api_document(api: Served) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {"/analytics/heatmap", "/analytics/flows"} <= set(paths)
    assert not [path for path in paths if path == "/" or path.startswith("/static")]
