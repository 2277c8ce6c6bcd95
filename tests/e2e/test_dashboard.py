"""The dashboard in headless Chromium over the public scenario plus a Chinese-named rep and customer:
sign in, every page renders real content, a commission figure opens its lines, events and plan, the
as-of slider moves the state, a rep token is refused another rep's pay. Screenshots of every page go to
tests/output/screenshots/ (kept by CI as artifacts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from adapters.bootstrap import bootstrap
from adapters.http_app import create_app
from adapters.importer import import_lines
from adapters.settings import Settings
from adapters.tokens import TokenStore
from tests.conftest import SCENARIOS
from tests.e2e.browser import Browser, chromium, serving

HISTORY = SCENARIOS / "small-org" / "history.jsonl"
REP_NAME = "张伟 <b>&amp;"
CUSTOMER_NAME = "上海<测试>科技有限公司"
NOTE = "客户关注价格 <script>window.pwned = 1</script>"
# A Chinese-named rep and customer, with names that would be markup if a page ever wrote them as HTML.
CHINESE = [
    {"type": "OnboardRep", "rep_id": "r-zh1", "name": REP_NAME, "role": "smb", "team": "east",
     "region": "CN-E", "occurred_at": "2026-03-01T09:00:00+08:00"},
    {"type": "SetTargets", "rep_id": "r-zh1", "period": "2026-03", "quota": "100000",
     "margin_target": "25000", "nps_target": "8", "target_incentive": "2500"},
    {"type": "RegisterCustomer", "customer_id": "c-zh1", "name": CUSTOMER_NAME, "industry": "manufacturing",
     "region": "CN-E", "occurred_at": "2026-03-01T10:00:00+08:00"},
    {"type": "OpenDeal", "deal_id": "d-zh1", "customer_id": "c-zh1", "owner_rep_id": "r-zh1",
     "expected_amount": "50000", "occurred_at": "2026-03-02T10:00:00+08:00"},
    {"type": "LogActivity", "deal_id": "d-zh1", "rep_id": "r-zh1", "kind": "call", "note": NOTE,
     "occurred_at": "2026-03-02T15:00:00+08:00"},
    {"type": "SubmitRequirement", "request_id": "rq-zh1", "deal_id": "d-zh1",
     "departments": ["presales", "legal"], "occurred_at": "2026-03-03T10:00:00+08:00"},
    {"type": "DecideRequirement", "request_id": "rq-zh1", "department": "presales", "decision": "approve",
     "by": "王芳", "occurred_at": "2026-03-03T11:00:00+08:00"},
    {"type": "DecideRequirement", "request_id": "rq-zh1", "department": "legal", "decision": "reject",
     "by": "李娜", "reason": "条款风险", "occurred_at": "2026-03-03T16:30:00+08:00"},
    {"type": "BookOrder", "order_id": "o-zh1", "deal_id": "d-zh1", "amount": "50000",
     "gross_margin": "20000", "signed_on": "2026-03-10", "occurred_at": "2026-03-10T10:00:00+08:00"},
]  # fmt: skip


@dataclass
class Dashboard:
    browser: Browser
    tokens: dict[str, str]
    signed_in: str | None = None

    def sign_in(self, who: str) -> Browser:
        if self.signed_in != who:
            self.browser.sign_in(self.tokens[who])
            self.signed_in = who
        return self.browser


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("dashboard")
    service = bootstrap(f"sqlite:///{folder / 'salesledger.db'}", Settings(http_wait_seconds=1.0))
    try:
        with HISTORY.open(encoding="utf-8") as lines:
            report = import_lines(service.executor, [*lines, *(json.dumps(c) for c in CHINESE)])
        assert report.accepted == 218 + len(CHINESE), report.rejected
        store = TokenStore(service.store)
        now = datetime.now(UTC)
        tokens = {
            "admin": store.create("admin", None, None, now)[1],
            "rep": store.create("rep", "r-ka1", None, now)[1],
        }
        with serving(create_app(service)) as base, chromium(folder / "profile") as driver:
            yield Dashboard(Browser(driver, base), tokens)
    finally:
        service.close()


@pytest.fixture
def admin(dashboard: Dashboard) -> Browser:
    return dashboard.sign_in("admin")


def rows(browser: Browser, table: str) -> list[str]:
    return [row.text for row in browser.elements(f"{table} tbody tr")]


def test_signing_in_with_a_token_opens_the_dashboard(dashboard: Dashboard) -> None:
    browser = dashboard.browser
    browser.open("funnel.html?period=2026-02")
    browser.wait(lambda d: "index.html" in d.current_url, "sent to the login page without a token")
    dashboard.signed_in = None
    browser.element("#token").send_keys("slt_not-a-real-token")
    browser.element("#login button[type=submit]").click()
    assert "the token is unknown or revoked" in browser.text(".problem", "401").text
    browser.screenshot("login-refused")
    dashboard.sign_in("admin")
    assert browser.element("nav.top .who").text == "admin · every row"


PAGES = [
    # (page with its query, screenshot, what proves it rendered real content)
    ("funnel.html?period=2026-02", "funnel", "#funnel-chart"),
    ("sla.html", "sla-board", "#sla-chart"),
    ("statement.html?period=2026-03&rep=r-ka1", "commission-statement", None),
    ("customer.html?id=c-zh1", "customer-360", None),
    ("audit.html?subject=deal&id=d-003", "audit-timeline", None),
    (
        "whatif.html?plan=standard%402&periods=2026-01..2026-03&sweep=bonuses%5B0%5D.rate%3D0.4%25..1.2%25%3A0.2%25",
        "whatif-cost-curve",
        "#cost-curve",
    ),
    ("heatmap.html", "heat-map", "#heatmap-chart"),
    ("flows.html", "sankey-flows", "#sankey-chart"),
]


@pytest.mark.parametrize(("path", "shot", "chart"), PAGES, ids=[shot for _, shot, _ in PAGES])
def test_every_page_renders_its_content(admin: Browser, path: str, shot: str, chart: str | None) -> None:
    admin.open(path)
    if chart is not None:
        admin.chart(chart)
    CONTENT[shot](admin)
    assert admin.screenshot(shot).stat().st_size > 20_000
    assert admin.foreign_requests() == []
    assert admin.script_errors() == []


def _funnel(browser: Browser) -> None:
    browser.element("#stages")
    stages = rows(browser, "#stages")
    assert [row.split()[0] for row in stages] == [
        "lead", "qualified", "needs_confirmed", "solution_demo", "quotation", "negotiation",
    ]  # fmt: skip
    flagged = browser.elements("#stages tr.flagged")
    assert [row.text.split()[0] for row in flagged] == ["quotation"]
    assert "33% !" in flagged[0].find_element(By.CSS_SELECTOR, "td.flag").text


def _sla(browser: Browser) -> None:
    browser.element("#departments")
    board = {row.split()[0]: row.split() for row in rows(browser, "#departments")}
    assert list(board) == ["presales", "legal", "delivery"]
    assert board["presales"][2] == "1" and board["presales"][6] == "1.00"
    assert board["legal"][6] == "6.50"  # past its 4 h SLA: flagged
    assert browser.elements("#departments tr.flagged")[0].text.startswith("legal")


def _statement(browser: Browser) -> None:
    total = browser.element("#figures .figure[data-kind=total] .value")
    assert total.text == "8,046.00"
    assert total.get_attribute("data-amount") == "8046.00"
    assert browser.element("#statement-title").text.startswith("R-KA1 (r-ka1) · 2026-03 · open")


def _customer(browser: Browser) -> None:
    assert browser.element("#customer-name").text == f"{CUSTOMER_NAME} (c-zh1)"
    assert [row.split()[0] for row in rows(browser, "#orders")] == ["o-zh1"]


def _audit(browser: Browser) -> None:
    browser.text("#state-panel", "stage")
    assert browser.element("#state [data-key=stage]").text == "won"
    assert browser.element("#as-of-label").text.startswith("as of 2026-03-03")


def _whatif(browser: Browser) -> None:
    points = rows(browser, "#points")
    assert [row.split()[0] for row in points] == ["0.004", "0.006", "0.008", "0.01", "0.012"]


def _heatmap(browser: Browser) -> None:
    assert rows(browser, "#cells"), "a cell per industry and region"
    assert all(len(row.split()) >= 8 for row in rows(browser, "#cells"))


def _flows(browser: Browser) -> None:
    browser.text("#result details summary", "Every link").click()
    links = rows(browser, "#links")
    assert any(row.startswith("team: east stage:") for row in links)
    assert any(row.startswith("outcome: won margin:") for row in links)


CONTENT = {
    "funnel": _funnel,
    "sla-board": _sla,
    "commission-statement": _statement,
    "customer-360": _customer,
    "audit-timeline": _audit,
    "whatif-cost-curve": _whatif,
    "heat-map": _heatmap,
    "sankey-flows": _flows,
}


def test_a_commission_figure_opens_its_lines_events_and_plan(admin: Browser) -> None:
    admin.open("statement.html?period=2026-03&rep=r-ka1")
    admin.element("#figures .figure[data-kind=base]").click()
    lines = admin.element("#lines")
    assert [row.text.split()[:2] for row in lines.find_elements(By.CSS_SELECTOR, "tbody tr")] == [
        ["base", "1,440.00"],
        ["base", "2,160.00"],
    ]
    admin.element("#figures .figure[data-kind=total]").click()
    admin.wait(lambda d: len(admin.elements("#lines tbody tr")) == 4, "every line of the total")
    base = admin.text("#lines tbody tr", "o-003")
    base.find_element(By.CSS_SELECTOR, ".line-amount").click()
    source = admin.text("#sources .source-event", "Order.Booked")
    source.click()
    event = admin.text("#event", "What was recorded")
    assert "Order.Booked" in event.text
    for fact in ("o-003", "d-003", "c-01", "80000", "2026-03-03"):
        assert fact in event.text
    admin.screenshot("commission-drill-down-event")
    event.find_element(By.LINK_TEXT, "d-003").click()
    admin.wait(lambda d: "audit.html?subject=deal&id=d-003" in d.current_url, "the deal's audit trail")
    admin.driver.back()
    admin.element("#figures .figure[data-kind=total]").click()
    admin.text("#lines tbody tr", "o-003").find_element(By.CSS_SELECTOR, ".line-plan").click()
    plan = admin.text("#plan", "Plan standard@2")
    assert "0.045" in plan.text and "retroactive" in plan.text and "big-first-order" in plan.text
    admin.screenshot("commission-drill-down-plan")


def test_the_as_of_slider_shows_the_state_at_each_instant(admin: Browser) -> None:
    admin.open("audit.html?subject=deal&id=d-003&by=business")
    assert admin.text("#state [data-key=stage]", "won").text == "won"
    slider = admin.element("#as-of")
    slider.send_keys(Keys.HOME)
    admin.text("#as-of-label", "instant 1 of")
    assert admin.text("#state [data-key=stage]", "lead").text == "lead"
    assert admin.element("#events h2").text.startswith("Events (1 of 16 by then)")
    assert len(admin.elements("#timeline tr.future")) == 15
    admin.screenshot("audit-as-of-first-instant")
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    admin.text("#as-of-label", "instant 3 of")
    assert admin.text("#state [data-key=stage]", "qualified").text == "qualified"


def test_names_are_shown_as_text_never_as_markup(admin: Browser) -> None:
    admin.open("statement.html?period=2026-03&rep=r-zh1")
    title = admin.text("#statement-title", "r-zh1")
    assert title.text.startswith(f"{REP_NAME} (r-zh1)")
    assert title.find_elements(By.TAG_NAME, "b") == []
    admin.open("audit.html?subject=deal&id=d-zh1")
    admin.text("#timeline", NOTE)
    assert admin.driver.execute_script("return window.pwned === undefined")
    assert admin.driver.find_elements(By.CSS_SELECTOR, "#timeline script") == []
    admin.screenshot("audit-chinese-names")


def test_a_rep_token_sees_its_own_pay_and_is_refused_another_reps(dashboard: Dashboard) -> None:
    browser = dashboard.sign_in("rep")
    assert "/statement.html" in browser.driver.current_url
    browser.open("statement.html?period=2026-03&rep=r-ka1")
    assert browser.element("#figures .figure[data-kind=total] .value").text == "8,046.00"
    browser.open("statement.html?period=2026-03&rep=r-ka2")
    problem = browser.text(".problem", "403")
    assert "rep_id: rep 'r-ka2' is outside this token's rows (rep r-ka1)" in problem.text
    assert browser.elements("#figures") == []
    browser.screenshot("rep-refused-other-statement")
    browser.open("heatmap.html")
    assert "the heat map is for manager, auditor, admin" in browser.text(".problem", "403").text
