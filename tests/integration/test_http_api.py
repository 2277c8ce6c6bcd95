"""The HTTP API on both stores: every route for every role, each refusal a logged 403 (never an empty
answer), commands idempotent and answered with their position, queries reading their own writes."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapters.http_problems import NotCaughtUp
from adapters.persistence import open_store
from commands.context import Context
from commands.executor import Executor
from commands.parsing import parse_command
from tests.builders import EVIDENCE, token
from tests.cli import salesledger
from tests.conftest import SCENARIOS
from tests.http_client import EAST, ROLES, Served, served_scenario, store_url

SCENARIO = SCENARIOS / "small-org"
KEYS = ("rep_id", "kind", "amount", "plan", "order_id", "corrects")
OK, NO = 200, 403


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with store_url(request.param, request, tmp_path_factory.mktemp("http")) as url, served_scenario(url) as s:
        yield s


def expected(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCENARIO / name).read_text(encoding="utf-8"))
    return document


def multiset(lines: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(line.get(key) for key in KEYS) for line in lines)


def refused_and_logged(api: Served, who: str, response: Any, route: str) -> dict[str, Any]:
    assert response.status_code == NO, (who, route, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == NO and problem["field"] and problem["rule"], problem
    return problem


def check(api: Served, who: str, path: str, want: int) -> Any:
    with capture_logs() as logs:
        response = api.client.get(path, headers=api.headers(who))
    refusals = [log for log in logs if log["event"] == "http.access_refused"]
    if want == NO:
        refused_and_logged(api, who, response, path)
        [logged] = refusals
        assert logged["token_id"] == api.principals[who].token_id
        assert logged["route"] == path.split("?", maxsplit=1)[0] and logged["status"] == NO
        assert logged["reason"] == f"{response.json()['field']}: {response.json()['rule']}"
    else:
        assert response.status_code == want, (who, path, response.text)
        assert not refusals
    return response


# Each read route with the status every role gets: (path, {role: status}), roles as in tests.http_client.
# The rep is r-ka1 (team east, owner of d-003 and d-005, credited on d-010); the manager runs team east.
def every(status: int, **exceptions: int) -> dict[str, int]:
    return {role: exceptions.get(role, status) for role in ROLES}


READS: list[tuple[str, dict[str, int]]] = [
    ("/payroll/2026-01/lines", every(OK, presales=NO)),
    ("/payroll/2026-01/lines?rep_id=r-ka1", every(OK, presales=NO)),
    ("/payroll/2026-01/lines?rep_id=r-ka2", every(OK, presales=NO, manager=NO, rep=NO)),
    ("/payroll/2026-02/lines?plan=standard@2", every(OK, presales=NO)),
    ("/payroll/2026-02/diff?plan=standard@2", every(NO, finance=OK, auditor=OK, admin=OK)),
    ("/payroll/2026-01/statements/r-ka1", every(OK, presales=NO)),
    ("/payroll/2026-01/statements/r-smb1", every(OK, presales=NO, rep=NO)),
    ("/payroll/2026-01/statements/r-ka2", every(OK, presales=NO, manager=NO, rep=NO)),
    ("/audit/deal/d-003", every(OK, finance=NO)),
    ("/audit/deal/d-010", every(OK, finance=NO)),
    ("/audit/deal/d-009", every(OK, finance=NO, manager=NO, rep=NO)),
    ("/audit/deal/d-003?as_of=2026-02-21T00:00:00%2B08:00&by=business", every(OK, finance=NO)),
    ("/audit/rep/r-ka1", every(OK, presales=NO)),
    ("/audit/rep/r-ka2", every(OK, presales=NO, manager=NO, rep=NO)),
    ("/audit/period/2026-01", every(NO, finance=OK, auditor=OK, admin=OK)),
    ("/audit/order/o-010", every(NO, finance=OK, auditor=OK, admin=OK)),
    ("/audit/customer/c-01", every(NO, presales=OK, auditor=OK, admin=OK)),
    ("/audit/verify", every(NO, auditor=OK, admin=OK)),
    ("/funnel?period=2026-02", every(NO, auditor=OK, admin=OK)),
    ("/funnel?period=2026-02&by=rep", every(OK, presales=NO, finance=NO)),
    ("/funnel?period=2026-02&by=team", every(OK, presales=NO, finance=NO, rep=NO)),
    ("/funnel?period=2026-02&by=rep&group=r-ka2", every(NO, auditor=OK, admin=OK)),
    ("/funnel?period=2026-02&by=team&group=south", every(NO, auditor=OK, admin=OK)),
    ("/sla", every(OK, rep=NO, finance=NO)),
    ("/customers/c-01", every(OK, rep=NO, finance=NO)),
    ("/customers/c-01/tag-suggestions", every(OK, rep=NO, finance=NO)),
    ("/attribution?at_stage=quotation", every(NO, manager=OK, auditor=OK, admin=OK)),
    ("/projections", every(NO, auditor=OK, admin=OK)),
    ("/whoami", every(OK)),
    ("/health", every(OK)),
]


@pytest.mark.parametrize(("path", "statuses"), READS, ids=[path for path, _ in READS])
def test_every_read_route_for_every_role(api: Served, path: str, statuses: dict[str, int]) -> None:
    for who, want in statuses.items():
        check(api, who, path, want)


@pytest.mark.parametrize("path", ["/commands", *(path for path, _ in READS if path != "/health")])
def test_every_route_wants_a_live_token(api: Served, path: str) -> None:
    method = api.client.post if path == "/commands" else api.client.get
    for headers in ({}, {"Authorization": "Bearer slt_not-a-token"}, {"Authorization": "Basic YTpi"}):
        with capture_logs() as logs:
            response = method(path, headers=headers)
        assert response.status_code == 401, (path, headers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert [log["route"] for log in logs if log["event"] == "http.access_refused"] == [
            path.split("?", maxsplit=1)[0]
        ]


def test_payroll_rows_follow_the_token(api: Served) -> None:
    live = expected("payroll-2026-01.json")
    admin = api.get("admin", "/payroll/2026-01/lines").json()
    assert multiset(admin["lines"]) == multiset(live["lines"]) and admin["totals"] == live["totals"]
    rep = api.get("rep", "/payroll/2026-01/lines").json()
    assert multiset(rep["lines"]) == multiset([x for x in live["lines"] if x["rep_id"] == "r-ka1"])
    assert rep["totals"] == {"r-ka1": live["totals"]["r-ka1"]} and rep["scope"] == "rep r-ka1"
    manager = api.get("manager", "/payroll/2026-01/lines").json()
    assert multiset(manager["lines"]) == multiset([x for x in live["lines"] if x["rep_id"] in EAST])
    assert manager["totals"] == {rep: amount for rep, amount in live["totals"].items() if rep in EAST}
    south = api.get("manager_south", "/payroll/2026-01/lines").json()
    assert set(south["totals"]) == set(live["totals"]) - set(EAST)
    sandbox = expected("sandbox-2026-02-standard@2.json")
    finance = api.get("finance", "/payroll/2026-02/lines", plan="standard@2").json()
    assert multiset(finance["lines"]) == multiset(sandbox["lines"]) and finance["totals"] == sandbox["totals"]


def test_statement_drills_down_to_its_events_within_the_rows(api: Served) -> None:
    statement = api.get("rep", "/payroll/2026-01/statements/r-ka1").json()
    assert statement["total"] == expected("payroll-2026-01.json")["totals"]["r-ka1"]
    source = statement["lines"][0]["sources"][0]
    assert statement["events"][source]["type"] == "Order.Booked"
    path = f"/payroll/2026-01/statements/r-ka1/sources/{source}"
    event = check(api, "rep", path, OK).json()
    assert event["event_id"] == source and event["data"] and event["figures"]
    assert event["figures"][0]["amount"] == statement["lines"][0]["amount"]
    check(api, "manager", path, OK)
    check(api, "finance", path, OK)
    check(api, "manager_south", path, NO)
    check(api, "presales", path, NO)
    other = api.get("admin", "/payroll/2026-01/statements/r-ka2").json()
    foreign = next(s for line in other["lines"] for s in line["sources"] if s not in statement["events"])
    missing = api.get("rep", f"/payroll/2026-01/statements/r-ka1/sources/{foreign}")
    assert missing.status_code == 404 and missing.json()["field"] == "event_id"


def test_funnel_rows_follow_the_token(api: Served) -> None:
    everyone = api.get("admin", "/funnel", period="2026-02", by="rep").json()
    assert {row["group"] for row in everyone["stages"]} >= {"r-ka1", "r-ka2"}
    rep = api.get("rep", "/funnel", period="2026-02", by="rep").json()
    assert {row["group"] for row in rep["stages"]} == {"r-ka1"}
    manager = api.get("manager", "/funnel", period="2026-02", by="rep").json()
    assert {row["group"] for row in manager["stages"]} == {row["group"] for row in everyone["stages"]} & set(
        EAST
    )
    teams = api.get("manager", "/funnel", period="2026-02", by="team").json()
    assert {row["group"] for row in teams["stages"]} == {"east"}
    groupless = api.get("admin", "/funnel", period="2026-02", group="east")
    assert groupless.status_code == 422 and groupless.json()["field"] == "group"


def test_whatif_sweeps_pay_in_a_sandbox_for_finance_only(api: Served) -> None:
    sandbox = expected("sandbox-2026-02-standard@2.json")
    head = api.get("admin", "/health").json()["head"]
    request = {"plan": "standard@2", "periods": "2026-02"}
    for who in ROLES:
        with capture_logs() as logs:
            response = api.client.post("/whatif", headers=api.headers(who), json=request)
        if who in ("finance", "auditor", "admin"):
            assert response.status_code == OK, response.text
            [point] = response.json()["points"]
            assert point["payout"] == f"{sum(Decimal(v) for v in sandbox['totals'].values()):.2f}"
        else:
            refused_and_logged(api, who, response, "/whatif")
            assert [log["route"] for log in logs if log["event"] == "http.access_refused"] == ["/whatif"]
    # 2026-02 was closed under standard@1, whose first-order rate is 0.04: one point is live itself.
    live = {"plan": "live", "periods": "2026-02", "sweep": ["rates.first_order=0.03..0.05:0.01"]}
    document = api.client.post("/whatif", headers=api.headers("finance"), json=live).json()
    assert len(document["points"]) == 3
    [same] = [p for p in document["points"] if p["matches_live"]]
    assert same["difference"] == "0.00"
    too_long = api.client.post(
        "/whatif", headers=api.headers("finance"), json=live | {"periods": "2026-01..2029-12"}
    )
    assert too_long.status_code == 422 and too_long.json()["field"] == "periods"
    assert api.get("admin", "/health").json()["head"] == head


def test_audit_as_of_shows_the_state_then(api: Served) -> None:
    now = api.get("rep", "/audit/deal/d-003").json()
    then = api.get("rep", "/audit/deal/d-003", as_of="2026-02-20T13:00:00+08:00", by="business").json()
    assert then["state"]["stage"] == "lead" and len(then["events"]) == 1
    assert len(now["events"]) > len(then["events"]) and now["state"] is None
    naive = api.get("auditor", "/audit/deal/d-003", as_of="2026-02-20T13:00:00")
    assert naive.status_code == 422 and naive.json()["field"] == "as_of"
    unknown = api.get("auditor", "/audit/deal/no-such-deal")
    assert unknown.status_code == 404 and unknown.json()["field"] == "subject_id"


# -- commands ---------------------------------------------------------------------------------------


def opened(api: Served, owner: str = "r-ka1", customer: str = "c-01") -> str:
    deal = f"d-{token()}"
    response = api.post("admin", open_deal(deal, owner, customer))
    assert response.status_code == 201, response.text
    return deal


def open_deal(deal: str, owner: str, customer: str = "c-01", **extra: Any) -> dict[str, Any]:
    return {
        "type": "OpenDeal",
        "deal_id": deal,
        "customer_id": customer,
        "owner_rep_id": owner,
        "expected_amount": "50000",
        "occurred_at": "2027-01-04T09:00:00+08:00",
        **extra,
    }


def act(deal: str, rep: str, kind: str = "call") -> dict[str, Any]:
    command = {"type": "LogActivity", "deal_id": deal, "rep_id": rep, "kind": kind}
    return {**command, "occurred_at": "2027-01-05T09:00:00+08:00"}


def move(deal: str, rep: str, to: str) -> dict[str, Any]:
    return {
        "type": "MoveStage",
        "deal_id": deal,
        "rep_id": rep,
        "to_stage": to,
        "occurred_at": "2027-01-06T09:00:00+08:00",
    }


def onboard(rep: str, team: str) -> dict[str, Any]:
    return {"type": "OnboardRep", "rep_id": rep, "name": "N", "role": "smb", "team": team, "region": "CN-E",
            "occurred_at": "2027-01-02T09:00:00+08:00"}  # fmt: skip


def targets(rep: str) -> dict[str, Any]:
    return {"type": "SetTargets", "rep_id": rep, "period": "2027-01", "quota": "1000", "margin_target": "100",
            "nps_target": "8", "target_incentive": "100"}  # fmt: skip


def plan_command(version: int) -> dict[str, Any]:
    plan = {"name": f"http-{token()}", "version": version, "effective_from": "2030-01",
            "rates": {"first_order": "0.04", "repeat_order": "0.02"}, "clawback_days": 90,
            "accelerators": {"mode": "marginal", "bands": [{"from": "0", "multiplier": "1"}]}}  # fmt: skip
    return {"type": "PublishPlan", "plan": plan}


def decide(request: str, department: str, by: str) -> dict[str, Any]:
    command = {"type": "DecideRequirement", "request_id": request, "department": department, "by": by}
    return {**command, "decision": "approve", "occurred_at": "2027-01-07T09:00:00+08:00"}


def submit(request: str, deal: str) -> dict[str, Any]:
    command = {"type": "SubmitRequirement", "request_id": request, "deal_id": deal}
    return {**command, "departments": ["presales", "legal"], "occurred_at": "2027-01-06T09:00:00+08:00"}


def on_deal(command_type: str, deal: str, **fields: Any) -> dict[str, Any]:
    return {"type": command_type, "deal_id": deal, **fields, "occurred_at": "2027-01-08T00:00:00Z"}


def test_commands_each_role_may_send(api: Served) -> None:
    mine, south = opened(api, "r-ka1"), opened(api, "r-ka2")
    assert api.post("rep", act(mine, "r-ka1")).status_code == 201
    assert api.post("rep", open_deal(f"d-{token()}", "r-ka1")).status_code == 201
    assert api.post("rep_smb1", act(opened(api, "r-smb1"), "r-smb1")).status_code == 201
    assert api.post("manager", act(mine, "r-ka1", "demo")).status_code == 201
    assert api.post("manager", onboard(f"r-{token()}", "east")).status_code == 201
    assert api.post("manager", targets("r-smb1")).status_code == 201
    reassign = on_deal("ReassignDeal", opened(api, "r-ka1"), owner_rep_id="r-smb1")
    assert api.post("manager", reassign).status_code == 201
    assert api.post("manager_south", act(south, "r-ka2")).status_code == 201
    assert api.post("finance", plan_command(1)).status_code == 201
    assert api.post("finance", targets("r-ka2")).status_code == 201
    request = f"rq-{token()}"
    assert api.post("rep", submit(request, mine)).status_code == 201
    assert api.post("presales", decide(request, "presales", "ps-1")).status_code == 201
    assert api.post("admin", decide(request, "legal", "lawyer-1")).status_code == 201


# (who, command, field named in the refusal): every refusal of the command table.
def refusals(mine: str, south: str, request: str) -> list[tuple[str, dict[str, Any], str]]:
    close = {"type": "ClosePeriod", "period": "2027-01", "occurred_at": "2027-02-01T00:00:00Z"}
    nps = {"type": "RecordNps", "customer_id": "c-01", "score": 10, "occurred_at": "2027-01-08T00:00:00Z"}
    split = [{"rep_id": "r-ka1", "share": "0.5"}, {"rep_id": "r-ka2", "share": "0.5"}]
    return [
        ("rep", open_deal(f"d-{token()}", "r-ka2"), "owner_rep_id"),
        ("rep", open_deal(f"d-{token()}", "r-ka1", splits=[{"rep_id": "r-ka1", "share": "1"}]), "splits"),
        ("rep", act(mine, "r-smb1"), "rep_id"),
        ("rep", act(south, "r-ka1"), "deal_id"),
        ("rep", move(south, "r-ka1", "qualified"), "deal_id"),
        ("rep", on_deal("LoseDeal", south, reason="x"), "deal_id"),
        ("rep", targets("r-ka1"), "type"),
        ("rep", nps, "type"),
        ("rep", close, "type"),
        ("rep_smb1", act(mine, "r-smb1"), "deal_id"),
        ("manager", act(south, "r-ka2"), "rep_id"),
        ("manager", on_deal("AttachDocument", south, kind="quote", name="q"), "deal_id"),
        ("manager", onboard(f"r-{token()}", "south"), "team"),
        ("manager", targets("r-ka2"), "rep_id"),
        ("manager", open_deal(f"d-{token()}", "r-ka2"), "owner_rep_id"),
        ("manager", on_deal("ReassignDeal", mine, owner_rep_id="r-ka2"), "owner_rep_id"),
        ("manager", on_deal("ReassignDeal", south, owner_rep_id="r-smb1"), "deal_id"),
        ("manager", on_deal("SetCreditSplit", mine, splits=split), "splits.1.rep_id"),
        ("manager", plan_command(1), "type"),
        ("manager", {"type": "PublishGatePolicy", "policy": {"version": 9, "stages": {}}}, "type"),
        ("presales", decide(request, "legal", "ps-1"), "department"),
        ("presales", decide(request, "presales", "someone-else"), "by"),
        ("presales", act(mine, "r-ka1"), "type"),
        ("finance", open_deal(f"d-{token()}", "r-ka1"), "type"),
        ("finance", {"type": "RecordSlaBreaches", "request_id": request}, "type"),
        ("auditor", act(mine, "r-ka1"), "type"),
        ("auditor", close, "type"),
    ]


def test_every_command_refusal_is_a_logged_403_that_writes_nothing(api: Served) -> None:
    mine, south = opened(api, "r-ka1"), opened(api, "r-ka2")
    request = f"rq-{token()}"
    assert api.post("admin", submit(request, mine)).status_code == 201
    head = api.get("admin", "/health").json()["head"]
    for who, command, field in refusals(mine, south, request):
        with capture_logs() as logs:
            response = api.post(who, command)
        problem = refused_and_logged(api, who, response, "/commands")
        assert problem["field"] == field, (who, command["type"], problem)
        [logged] = [log for log in logs if log["event"] == "http.access_refused"]
        assert logged["token_id"] == api.principals[who].token_id and logged["route"] == "/commands"
    assert api.get("admin", "/health").json()["head"] == head


def test_applied_command_answers_its_position_and_queries_read_it(api: Served) -> None:
    deal = opened(api)
    first = api.post("rep", act(deal, "r-ka1") | {"command_id": f"c-{deal}"})
    assert first.status_code == 201 and first.json()["status"] == "applied"
    position = first.json()["position"]
    trail = api.get("rep", f"/audit/deal/{deal}", min_position=position).json()
    assert trail["position"] >= position
    # The position is the command's last write (its receipt); the activity is in that transaction.
    [logged] = [e["position"] for e in trail["events"] if e["type"] == "Deal.ActivityLogged"]
    assert position - 1 <= logged <= position
    again = api.post("rep", act(deal, "r-ka1") | {"command_id": f"c-{deal}"})
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["position"] >= position
    trail = api.get("rep", f"/audit/deal/{deal}", min_position=again.json()["position"]).json()
    assert len([e for e in trail["events"] if e["type"] == "Deal.ActivityLogged"]) == 1
    reused = api.post("rep", act(deal, "r-ka1", "demo") | {"command_id": f"c-{deal}"})
    assert reused.status_code == 422 and reused.json()["field"] == "command_id"


def test_each_command_decides_on_the_latest_state_whichever_worker_thread_runs_it(api: Served) -> None:
    # The server's worker threads share one executor: with a cache per thread, a thread that had
    # cached the deal refused the move back to "lead" as "already in lead" after another thread had
    # moved it on; a refusal writes nothing, so no version check caught it.
    executor = api.client.app.state.api.executor
    deal = f"d-{token()}"
    workers = [ThreadPoolExecutor(max_workers=1) for _ in range(2)]
    try:
        opening = open_deal(deal, "r-ka1")
        assert workers[0].submit(executor.execute, parse_command(opening)).result().status == "applied"
        for n in range(6):
            to = ("qualified", "lead")[n % 2]
            command = move(deal, "r-ka1", to) | {"occurred_at": f"2027-01-06T09:{n:02d}:00+08:00"}
            outcome = workers[(n + 1) % 2].submit(executor.execute, parse_command(command)).result()
            assert outcome.status == "applied", (n, outcome.error)
    finally:
        for worker in workers:
            worker.shutdown()


def test_gate_blocked_move_is_a_409_naming_what_is_missing(api: Served) -> None:
    deal = opened(api)
    attempt = move(deal, "r-ka1", "quotation") | {"command_id": f"m-{deal}"}
    response = api.post("rep", attempt)
    assert response.status_code == 409 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["command_status"] == "blocked" and problem["field"] == "to_stage"
    assert {gap["item"] for gap in problem["missing"]} >= {"demo_report", "activity:deep_visit"}
    trail = api.get("rep", f"/audit/deal/{deal}", min_position=problem["position"]).json()
    assert "Deal.StageMoveBlocked" in [e["type"] for e in trail["events"]]
    replay = api.post("rep", attempt)
    assert replay.status_code == 409 and replay.json()["command_status"] == "duplicate"


def test_bad_commands_name_the_field_and_the_rule(api: Served) -> None:
    deal = opened(api)
    cases = [
        (act(deal, "r-ka1", "visit"), "evidence"),
        (act(deal, "r-ka1", "teleport"), "kind"),
        (act(deal, "r-ka1") | {"occurred_at": "2027-01-05T09:00:00"}, "occurred_at"),
        (act(deal, "r-ka1") | {"surprise": 1}, "surprise"),
        ({"type": "NoSuchCommand"}, "type"),
        ({"deal_id": deal}, "type"),
        (act("no-such-deal", "r-ka1"), "deal_id"),
    ]
    head = api.get("admin", "/health").json()["head"]
    for command, field in cases:
        response = api.post("rep", command)
        assert response.status_code == 422, (command, response.text)
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["field"] == field and problem["rule"] and problem["detail"].startswith(field), problem
    evidence = act(deal, "r-ka1", "visit") | {"evidence": EVIDENCE}
    assert api.post("rep", evidence).status_code == 201
    assert api.get("admin", "/health").json()["head"] == head + 1
    malformed = api.client.post("/commands", headers=api.headers("rep"), content=b"{not json")
    assert malformed.status_code == 422 and malformed.json()["status"] == 422


def test_timestamps_at_the_ends_of_the_calendar_are_refused_not_a_crash(api: Served) -> None:
    # Found by hand: deadlines and zone conversions overflowed on these (a 500), not a clear refusal.
    deal = opened(api)
    for moment in ("9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+14:00"):
        command = open_deal(f"d-{token()}", "r-ka1") | {"occurred_at": moment}
        response = api.post("admin", command)
        assert response.status_code == 422 and response.json()["field"] == "occurred_at", response.text
        requirement = submit(f"rq-{token()}", deal) | {"occurred_at": moment}
        assert api.post("admin", requirement).json()["field"] == "occurred_at"
        board = api.get("admin", "/sla", now=moment)
        assert board.status_code == 422 and board.json()["field"] == "now"
    late_order = on_deal("BookOrder", deal, order_id=f"o-{token()}", amount="1", gross_margin="0")
    late_order["signed_on"] = "9999-12-31"
    assert api.post("admin", late_order).json()["field"] == "signed_on"
    assert api.get("admin", "/payroll/0000-01/lines").json()["field"] == "period"


def test_min_position_waits_for_a_write_from_another_process(api: Served) -> None:
    deal = opened(api)
    head = api.get("admin", "/health").json()["head"]
    writer = open_store(api.url)

    def write_later() -> None:
        time.sleep(0.3)
        Executor(writer, Context(clock=api.service.executor.context.clock)).execute(
            parse_command(act(deal, "r-ka1", "exec_intro"))
        )

    thread = threading.Thread(target=write_later)
    thread.start()
    try:
        trail = api.get("rep", f"/audit/deal/{deal}", min_position=head + 1).json()
    finally:
        thread.join()
        writer.close()
    assert trail["position"] >= head + 1
    assert "exec_intro" in [e["changes"].get("kind") for e in trail["events"]]
    never = api.get("rep", f"/audit/deal/{deal}", min_position=head + 1000)
    assert never.status_code == 422 and never.json()["field"] == "min_position"
    assert never.json()["type"] == "/problems/no-such-position"


def test_a_read_model_that_cannot_reach_a_written_position_answers_503(api: Served) -> None:
    head = api.get("admin", "/health").json()["head"]
    stuck = lambda: head - 1  # noqa: E731 - a fold that never gets further
    with pytest.raises(NotCaughtUp) as caught:
        api.client.app.state.api.reads.reach(stuck, head)
    assert caught.value.status == 503 and caught.value.headers["Retry-After"] == "1"


def test_openapi_publishes_every_command_and_route(api: Served) -> None:
    spec = api.client.get("/openapi.json").json()
    body = spec["paths"]["/commands"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    command = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert len(command["oneOf"]) == 28 and command["discriminator"]["propertyName"] == "type"
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert set(spec["paths"]) == {
        "/commands",
        "/payroll/{period}/lines",
        "/payroll/{period}/diff",
        "/payroll/{period}/statements/{rep_id}",
        "/payroll/{period}/statements/{rep_id}/sources/{event_id}",
        "/audit/verify",
        "/audit/{subject}/{subject_id}",
        "/customers/{customer_id}",
        "/customers/{customer_id}/tag-suggestions",
        "/funnel",
        "/sla",
        "/whatif",
        "/attribution",
        "/analytics/heatmap",
        "/analytics/flows",
        "/projections",
        "/whoami",
        "/health",
    }
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if path != "/health":
                assert operation["security"] == [{"HTTPBearer": []}], path
                assert "401" in operation["responses"], path


def test_tokens_from_the_cli_are_stored_hashed_and_can_be_revoked(api: Served) -> None:
    created = salesledger(
        api.url, "token", "create", "--role", "rep", "--rep-id", "r-smb1", "--format", "json"
    )
    assert created.returncode == 0, created.stderr
    document = json.loads(created.stdout)
    secret, token_id = document["token"], document["token_id"]
    auth = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/whoami", headers=auth).json()["rep_id"] == "r-smb1"
    datastore = api.service.store.recorder.datastore  # type: ignore[attr-defined]
    table = f'"{datastore.schema}".api_tokens' if hasattr(datastore, "schema") else "api_tokens"
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        rows = cursor.fetchall()
    stored = json.dumps([list(row.values()) if isinstance(row, dict) else list(row) for row in rows])
    assert secret not in stored and token_id in stored
    listed = salesledger(api.url, "token", "list", "--format", "json")
    assert token_id in [t["token_id"] for t in json.loads(listed.stdout)] and secret not in listed.stdout
    assert salesledger(api.url, "token", "revoke", token_id).returncode == 0
    assert api.client.get("/whoami", headers=auth).status_code == 401
    unknown = salesledger(api.url, "token", "create", "--role", "rep", "--rep-id", "nobody")
    assert unknown.returncode != 0 and "rep_id" in unknown.stderr
    scopeless = salesledger(api.url, "token", "create", "--role", "manager")
    assert scopeless.returncode != 0 and "team" in scopeless.stderr
