"""HTTP load on PostgreSQL: concurrent clients mixing commands and queries against `salesledger serve`.

    make bench            (or: python -m tests.benchmarks.http_load --clients 50 --seconds 60)

A fresh schema gets the public scenario plus one onboarded rep, deal and token per client; the server
runs in its own process (uvicorn), only on 127.0.0.1. Each client acts as its rep: logs activities,
moves its deal back and forth, retries a command with the same command_id, reads its pay, its
statement, its deal's audit trail at the position its last write returned (read-your-writes, checked),
its funnel rows; a manager's view (SLA board, customer 360, team pay) is mixed in. Any 5xx, transport
error or unexpected status is an error; the run exits 1 if there was one. Prints p50/p99 per route.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx

from adapters.bootstrap import bootstrap
from adapters.importer import import_lines
from adapters.tokens import TokenStore
from commands.parsing import parse_command
from tests.benchmarks.write_path import SERVER, scratch_schema
from tests.conftest import SCENARIOS

HISTORY = SCENARIOS / "small-org" / "history.jsonl"
START = datetime(2027, 1, 4, 9, tzinfo=UTC)


@dataclass
class Client:
    rep_id: str
    deal_id: str
    secret: str
    manager_secret: str
    stage: str = "lead"
    minutes: int = 0
    last_position: int = 0
    sent: itertools.count[int] = field(default_factory=itertools.count)

    def at(self) -> str:
        self.minutes += 1
        return (START + timedelta(minutes=self.minutes)).isoformat()


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def prepare(url: str, clients: int) -> list[Client]:
    service = bootstrap(url)
    try:
        with HISTORY.open(encoding="utf-8") as lines:
            import_lines(service.executor, lines)
        tokens = TokenStore(service.store)
        now = datetime.now(UTC)
        managers = {team: tokens.create("manager", None, team, now)[1] for team in ("east", "south")}
        prepared = []
        for n in range(clients):
            rep, deal, team = f"load-r{n:03d}", f"load-d{n:03d}", ("east", "south")[n % 2]
            for command in (
                {"type": "OnboardRep", "rep_id": rep, "name": rep, "role": "smb", "team": team,
                 "region": "CN-E", "occurred_at": "2027-01-02T09:00:00+00:00"},
                {"type": "OpenDeal", "deal_id": deal, "customer_id": f"c-0{n % 6}", "owner_rep_id": rep,
                 "expected_amount": "10000", "occurred_at": "2027-01-03T09:00:00+00:00"},
            ):  # fmt: skip
                outcome = service.executor.execute(parse_command(command))
                assert outcome.accepted, outcome.error
            secret = tokens.create("rep", rep, None, now)[1]
            prepared.append(Client(rep, deal, secret, managers[team]))
        return prepared
    finally:
        service.close()


async def call(http: httpx.AsyncClient, tally: Tally, route: str, want: set[int], **request: Any) -> Any:
    started = time.perf_counter()
    try:
        response = await http.request(**request)
    except httpx.HTTPError as error:
        tally.errors[route].append(f"{type(error).__name__}: {error}")
        return None
    tally.latencies[route].append(time.perf_counter() - started)
    if response.status_code not in want:
        tally.errors[route].append(f"{response.status_code}: {response.text[:200]}")
        return None
    return response.json()


async def step(http: httpx.AsyncClient, client: Client, tally: Tally, rng: random.Random) -> None:
    auth = {"Authorization": f"Bearer {client.secret}"}
    boss = {"Authorization": f"Bearer {client.manager_secret}"}
    roll = rng.random()
    if roll < 0.35 or client.last_position == 0:
        command = {"type": "LogActivity", "deal_id": client.deal_id, "rep_id": client.rep_id,
                   "kind": rng.choice(["call", "demo", "competitor_analysis"]), "occurred_at": client.at(),
                   "command_id": f"{client.rep_id}-{next(client.sent)}"}  # fmt: skip
        done = await call(
            http, tally, "POST /commands", {201}, method="POST", url="/commands", json=command, headers=auth
        )
        if done:
            client.last_position = done["position"]
            if rng.random() < 0.15:
                again = await call(http, tally, "POST /commands (retry)", {200}, method="POST",
                                   url="/commands", json=command, headers=auth)  # fmt: skip
                if again and again["status"] != "duplicate":
                    tally.errors["POST /commands (retry)"].append(f"not a duplicate: {again}")
    elif roll < 0.45:
        to = "qualified" if client.stage == "lead" else "lead"
        command = {"type": "MoveStage", "deal_id": client.deal_id, "rep_id": client.rep_id, "to_stage": to,
                   "occurred_at": client.at()}  # fmt: skip
        done = await call(
            http, tally, "POST /commands", {201}, method="POST", url="/commands", json=command, headers=auth
        )
        if done:
            client.stage, client.last_position = to, done["position"]
    elif roll < 0.60:
        trail = await call(http, tally, "GET /audit/{subject}/{id}", {200}, method="GET",
                           url=f"/audit/deal/{client.deal_id}", params={"min_position": client.last_position},
                           headers=auth)  # fmt: skip
        if trail and client.last_position not in {e["position"] for e in trail["events"]} | {
            e["position"] + 1 for e in trail["events"]
        }:
            tally.errors["GET /audit/{subject}/{id}"].append(f"own write at {client.last_position} not read")
    elif roll < 0.70:
        await call(http, tally, "GET /payroll/{period}/lines", {200}, method="GET",
                   url="/payroll/2026-01/lines", headers=auth)  # fmt: skip
    elif roll < 0.78:
        await call(http, tally, "GET /payroll/{period}/statements/{rep}", {200}, method="GET",
                   url=f"/payroll/2026-01/statements/{client.rep_id}", headers=auth)  # fmt: skip
    elif roll < 0.84:
        await call(http, tally, "GET /funnel", {200}, method="GET", url="/funnel",
                   params={"period": "2027-01", "by": "rep"}, headers=auth)  # fmt: skip
    elif roll < 0.89:
        await call(http, tally, "GET /sla", {200}, method="GET", url="/sla", headers=boss)
    elif roll < 0.94:
        await call(
            http, tally, "GET /customers/{id}", {200}, method="GET", url="/customers/c-01", headers=boss
        )
    else:
        await call(http, tally, "GET /payroll/{period}/lines (team)", {200}, method="GET",
                   url="/payroll/2026-02/lines", headers=boss)  # fmt: skip


async def drive(base: str, clients: list[Client], seconds: float, seed: int) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(clients), max_keepalive_connections=len(clients))
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def run(client: Client, rng: random.Random) -> None:
            while time.monotonic() < deadline:
                await step(http, client, tally, rng)

        await asyncio.gather(*(run(c, random.Random(seed + n)) for n, c in enumerate(clients)))
    return tally


def nearest_rank(ordered: list[float], percent: int) -> float:
    return ordered[max(0, -(-len(ordered) * percent // 100) - 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SALESLEDGER_DATABASE_URL": url, "SALESLEDGER_LOG_LEVEL": "error"}
    server = subprocess.Popen([sys.executable, "-m", "adapters", "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not answer /health within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with scratch_schema() as schema:
        url = f"{SERVER}?schema={schema}"
        clients = prepare(url, args.clients)
        port = free_port()
        server = serve(url, port)
        try:
            tally = asyncio.run(drive(f"http://127.0.0.1:{port}", clients, args.seconds, args.seed))
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = {"clients": args.clients, "seconds": args.seconds, "routes": {}}
    print(f"{'route':<40} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for route in sorted(set(tally.latencies) | set(tally.errors)):
        ordered = sorted(tally.latencies[route])
        p50, p99 = (nearest_rank(ordered, p) * 1000 if ordered else 0.0 for p in (50, 99))
        errors = len(tally.errors[route])
        report["routes"][route] = {"requests": len(ordered), "errors": errors, "p50_ms": round(p50, 1),
                                   "p99_ms": round(p99, 1)}  # fmt: skip
        print(f"{route:<40} {len(ordered):>9} {errors:>7} {p50:>8.1f} {p99:>8.1f}")
    total = sum(len(v) for v in tally.latencies.values())
    failed = sum(len(v) for v in tally.errors.values())
    print(f"{total} requests in {args.seconds:g} s ({total / args.seconds:.0f}/s), {failed} errors")
    for route, problems in tally.errors.items():
        for problem in problems[:3]:
            print(f"  {route}: {problem}", file=sys.stderr)
    print(json.dumps(report))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
