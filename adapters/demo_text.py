"""The demo's summary as a few short blocks of text, for a person at a terminal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def _funnel(funnel: dict[str, Any]) -> list[str]:
    lines = [f"Funnel {funnel['period']}      entered  advanced  lost  conversion  stalled"]
    for row in funnel["stages"]:
        flags = f"  ! {', '.join(row['flags'])} worse than benchmark" if row["flags"] else ""
        lines.append(
            f"  {row['stage']:<16}{row['entered']:>7}{row['advanced']:>10}{row['lost']:>6}"
            f"{_rate(row['conversion']):>12}{row['stalled']:>9}{flags}"
        )
    follow = funnel["follow_up"]
    if follow:
        lines.append(
            f"  first touch within SLA: {follow['touched_within_sla']} of {follow['assigned']} "
            f"assigned ({_rate(follow['rate'])})"
        )
    return lines


def _sla(departments: list[dict[str, Any]]) -> list[str]:
    lines = ["SLA board      requests  mean response  late  overdue now"]
    for row in departments:
        mean = "-" if row["mean_response_hours"] is None else f"{row['mean_response_hours']} h"
        lines.append(
            f"  {row['department']:<12}{row['requests']:>9}{mean:>15}{row['late_decisions']:>6}"
            f"{row['overdue']:>13}   (SLA {row['sla_hours']} h)"
        )
    return lines


def _payroll(payroll: dict[str, Any] | None) -> list[str]:
    if payroll is None:
        return ["Payroll: no period closed yet"]
    top = ", ".join(f"{rep['name']} ({rep['rep_id']}) {_money(rep['amount'])}" for rep in payroll["top"])
    return [
        f"Payroll {payroll['period']} (closed, {payroll['plan']}): {payroll['reps']} reps paid, "
        f"total {_money(payroll['total'])}",
        f"  top: {top}",
    ]


def _rerun(rerun: dict[str, Any] | None) -> list[str]:
    if rerun is None:
        return ["Rerun diff: one plan only, nothing to compare"]
    total = rerun["total"]
    return [
        f"Rerun diff {rerun['period']} under {rerun['plan']} (live: {rerun['live_plan']}): "
        f"{_money(total['live'])} -> {_money(total['candidate'])} ({_money(total['difference'])}), "
        f"{rerun['reps_changed']} of {rerun['reps']} reps change"
    ]


def render(document: dict[str, Any]) -> str:
    first, last = document["periods"]
    blocks = [
        [
            f"Simulated {document['reps']} reps, {first}..{last}: {document['commands']} commands, "
            f"{document['accepted']} accepted, {document['refused']} refused by the gates and rules "
            f"(into {document['store']})"
        ],
        _funnel(document["funnel"]),
        _sla(document["sla"]),
        _payroll(document["payroll"]) + _rerun(document["rerun"]),
        [
            f"Dashboard:   {document['url']}#token={document['token']}",
            f"Admin token: {document['token']}",
        ],
    ]
    return "\n\n".join("\n".join(block) for block in blocks)
