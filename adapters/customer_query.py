"""Customer 360 answered from the read model alone: one read of the customer document and, only when the
customer has orders, one indexed read of its orders (partition = customer, sort = signing date) —
a customer with no orders costs no order query. Tag suggestions read the customer's notes that fired a
keyword rule and the profiles of every customer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from adapters.doc_view import SORT_END, DocView
from projections.customer_360 import CUSTOMER_360, customer_part
from projections.read_model import Document
from projections.tag_suggestions import Profile, SuggestionPolicy, suggest


def customer_360(
    view: DocView, customer_id: str, since: date | None = None, until: date | None = None
) -> Document | None:
    """The customer's document with its orders signed in [since, until] (inclusive), or None."""
    doc = view.get(CUSTOMER_360, "customer", customer_id)
    if doc is None:
        return None
    orders: list[Document] = []
    if doc["orders"]["count"] > 0:
        # Sort keys are "signed_on:order_id": a bare date sorts before every key of that day, and
        # the date followed by ":" and the end marker after every one.
        low = since.isoformat() if since else ""
        high = f"{until.isoformat()}:{SORT_END}" if until else SORT_END
        orders = [
            order for _, order in view.part(CUSTOMER_360, "order", customer_part(customer_id), low, high)
        ]
    standing = [o for o in orders if not o["cancelled"]]
    doc["order_history"] = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "count": len(orders),
        "cancelled": len(orders) - len(standing),
        "amount": str(sum((Decimal(o["amount"]) for o in standing), Decimal(0))),
        "gross_margin": str(sum((Decimal(o["gross_margin"]) for o in standing), Decimal(0))),
        "orders": orders,
    }
    return doc


def suggest_tags(
    view: DocView, customer_id: str, policy: SuggestionPolicy | None = None
) -> dict[str, Any] | None:
    profile = view.get(CUSTOMER_360, "profile", customer_id)
    if profile is None:
        return None
    target = Profile.of(profile)
    others = [Profile.of(doc) for _, doc in view.kind(CUSTOMER_360, "profile")]
    notes = [doc for _, doc in view.part(CUSTOMER_360, "note", customer_part(customer_id))]
    return {
        "customer_id": customer_id,
        "name": profile["name"],
        "industry": target.industry,
        "region": target.region,
        "tags": sorted(target.tags),
        "suggestions": suggest(target, others, notes, policy),
    }
