"""Readable terminal output for the analytics documents (what-if, attribution, heat map, flows,
diagnosis), and the what-if sweep as CSV rows. The JSON documents are the reference; these only show."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

HEAT_METRICS = (
    "margin_per_activity",
    "margin_per_presales_hour",
    "margin",
    "activities",
    "presales_hours",
    "win_rate",
    "deals",
)


def whatif_rows(document: dict[str, Any], rows: str) -> list[dict[str, Any]]:
    """One row per point, or with rows="reps" one per (point, rep)."""
    fields = [axis["field"] for axis in document["axes"]]
    out = []
    for point in document["points"]:
        values = {field: point["values"].get(field, "") for field in fields}
        summary = {
            **values,
            "matches_live": "yes" if point["matches_live"] else "no",
            "payout": point["payout"],
            "live_payout": document["live"]["payout"],
            "difference": point["difference"],
            "credited_revenue": point["credited_revenue"],
            "margin": point["margin"],
            "payout_to_revenue": point["payout_to_revenue"] or "",
            "payout_to_margin": point["payout_to_margin"] or "",
            "reps_moved": point["reps_moved"],
        }
        if rows == "points":
            out.append(summary)
            continue
        for rep in point["reps"]:
            out.append(
                {
                    **values,
                    "matches_live": summary["matches_live"],
                    "rep_id": rep["rep_id"],
                    "live": rep["live"],
                    "candidate": rep["candidate"],
                    "difference": rep["difference"],
                    "change_pct": rep["change_pct"] or "",
                    "moved": "yes" if rep["moved"] else "no",
                }
            )
    return out


def whatif_view(document: dict[str, Any], rows: str) -> Group:
    periods = document["periods"]
    span = periods[0] if len(periods) == 1 else f"{periods[0]}..{periods[-1]}"
    live = document["live"]
    header = Text(
        f"what-if under {document['base']} for {span}: live pays {live['payout']} "
        f"({_ratio(live['payout_to_revenue'])} of credited revenue {live['credited_revenue']}, "
        f"{_ratio(live['payout_to_margin'])} of margin {live['margin']}); "
        f"reps moved = pay changes by more than {document['threshold_pct']} %"
    )
    data = whatif_rows(document, rows)
    table = Table(title="per rep over the periods" if rows == "reps" else "per point")
    if not data:
        return Group(header, table)
    for name in data[0]:
        table.add_column(_HEADERS.get(name, name), justify="left" if name in _LEFT else "right")
    for row in data:
        style = "bold" if row["matches_live"] == "yes" else None
        table.add_row(*(escape(str(value)) for value in row.values()), style=style)
    return Group(header, table)


# Short headers for a terminal; CSV keeps the full names.
_HEADERS = {
    "matches_live": "= live",
    "live_payout": "live",
    "credited_revenue": "revenue",
    "payout_to_revenue": "pay/revenue",
    "payout_to_margin": "pay/margin",
    "reps_moved": "reps moved",
    "change_pct": "change %",
}
_LEFT = frozenset({"rep_id", "matches_live", "moved"})


def _ratio(value: str | None) -> str:
    return "-" if value is None else f"{float(value):.2%}"


def attribution_view(document: dict[str, Any]) -> Group:
    sample = document["sample"]
    parts: list[Any] = [
        Text(
            f"closed deals that reached {document['at_stage']}: {sample['deals']} "
            f"(won {sample['won']}, lost {sample['lost']}; {sample['closed_without_reaching_stage']} closed "
            f"without reaching it)"
        )
    ]
    if document["refused"]:
        parts.append(Text(f"no attribution: {document['reason']}", style="bold yellow"))
        return Group(*parts)
    rules = document["rules"]
    parts.append(
        Text(
            f"{sample['parameters']} parameters, {sample['events_per_parameter']} of the rarer outcome per "
            f"parameter; significant = Holm-adjusted p < {rules['alpha']}"
        )
    )
    table = Table(title="win factors (odds ratio of winning)")
    for name in ("factor", "odds ratio", "95 % CI", "p", "p (Holm)", "significant"):
        table.add_column(name, justify="left" if name in ("factor", "significant") else "right")
    for factor in document["factors"]:
        low, high = factor["ci95"]
        table.add_row(
            escape(factor["label"]),
            f"{factor['odds_ratio']:.3g}",
            f"[{low:.3g}, {high:.3g}]",
            f"{factor['p']:.4f}",
            f"{factor['p_holm']:.4f}",
            "yes" if factor["significant"] else "",
            style="bold" if factor["significant"] else None,
        )
    parts.append(table)
    significant = [f["sentence"] for f in document["factors"] if f["significant"]]
    parts += [Text(sentence) for sentence in significant] or [Text("no factor is significant")]
    for dropped in document.get("dropped", []):
        parts.append(Text(f"left out: {dropped['factor']} ({dropped['reason']})", style="dim"))
    return Group(*parts)


def heatmap_view(document: dict[str, Any], metric: str) -> Group:
    cells = document["cells"]
    lines = sorted({cell["product_line"] for cell in cells})
    rows = sorted({(cell["industry"], cell["region"]) for cell in cells})
    by_key = {(c["industry"], c["region"], c["product_line"]): c for c in cells}
    table = Table(title=f"{metric} by industry x region (rows) and product line (columns)")
    table.add_column("industry")
    table.add_column("region")
    for line in lines:
        table.add_column(escape(line), justify="right")
    for industry, region in rows:
        values = []
        for line in lines:
            cell = by_key.get((industry, region, line))
            values.append("" if cell is None or cell[metric] is None else str(cell[metric]))
        table.add_row(escape(industry), escape(region), *values)
    total = document["total"]
    summary = Text(
        f"{total['deals']} closed deals, {total['activities']} activities, "
        f"{total['presales_hours']} presales hours, margin {total['margin']} "
        f"({total['margin_per_activity'] or '-'} per activity, "
        f"{total['margin_per_presales_hour'] or '-'} per presales hour)"
    )
    return Group(table, summary)


def flows_view(document: dict[str, Any]) -> Table:
    table = Table(title=f"flows of {document['deals']} deals: {' -> '.join(document['levels'])}")
    for name in ("from", "to", "deals", "margin"):
        table.add_column(name, justify="right" if name in ("deals", "margin") else "left")
    for link in document["links"]:
        table.add_row(escape(link["source"]), escape(link["target"]), str(link["deals"]), link["margin"])
    return table


def diagnosis_view(document: dict[str, Any]) -> Group:
    against = "configured benchmarks" if document["benchmark"] == "configured" else "the organisation"
    parts: list[Any] = [Text(f"diagnosis for {document['period']} against {against}", style="bold")]
    for team in document["teams"]:
        parts.append(Text(f"team {team['team']} ({team['gaps_found']} gaps measured)", style="bold"))
        parts += [Text(f"  {index}. {sentence}") for index, sentence in enumerate(team["sentences"], 1)]
    return Group(*parts)
