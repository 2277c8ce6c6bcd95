"""Tags to suggest for a customer, each with the reasons it is suggested: the tags of similar customers,
and keywords in the customer's own meeting notes and transcripts.

Similarity of two customers is a weighted sum a person can check: the overlap of their tags (Jaccard:
shared / all distinct), whether they are in the same industry, and whether in the same region. The
nearest customers above a threshold vote for their tags with their similarity; a tag's share is its
votes / all votes. Notes count the activities whose text fired a keyword rule for the tag. Two kinds of
evidence combine as independent ones do: score = 1 - (1 - share) * (1 - note strength). A tag the
customer already has is never suggested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from projections.read_model import Document


@dataclass(frozen=True)
class Profile:
    customer_id: str
    industry: str
    region: str
    tags: frozenset[str]

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Profile:
        return cls(str(doc["customer_id"]), str(doc["industry"]), str(doc["region"]), frozenset(doc["tags"]))


@dataclass(frozen=True)
class SuggestionPolicy:
    tag_weight: float = 0.5
    industry_weight: float = 0.3
    region_weight: float = 0.2
    # Same industry alone qualifies a neighbour; same region alone does not.
    min_similarity: float = 0.3
    neighbours: int = 10
    # A tag a third of the weighted neighbourhood has, or that notes mention.
    min_share: float = 0.34
    # Mentions in this many activities make note evidence full strength.
    full_mentions: int = 3
    min_score: float = 0.3


@dataclass(frozen=True)
class Similar:
    customer_id: str
    similarity: float
    why: tuple[str, ...]
    tags: frozenset[str]


def similarity(target: Profile, other: Profile, policy: SuggestionPolicy) -> Similar:
    why = []
    union = target.tags | other.tags
    shared = target.tags & other.tags
    jaccard = len(shared) / len(union) if union else 0.0
    if shared:
        why.append(f"shares {len(shared)} of {len(union)} tags ({', '.join(sorted(shared))})")
    score = policy.tag_weight * jaccard
    if target.industry == other.industry:
        score += policy.industry_weight
        why.append(f"same industry ({other.industry})")
    if target.region == other.region:
        score += policy.region_weight
        why.append(f"same region ({other.region})")
    return Similar(other.customer_id, round(score, 4), tuple(why), other.tags)


@dataclass
class Suggestion:
    tag: str
    score: float = 0.0
    share: float = 0.0
    similar: list[Similar] = field(default_factory=list)
    notes: list[Document] = field(default_factory=list)
    because: list[str] = field(default_factory=list)

    def document(self) -> Document:
        return {
            "tag": self.tag,
            "score": round(self.score, 3),
            "because": self.because,
            "similar_customers": {
                "share": round(self.share, 3),
                "customers": [
                    {"customer_id": s.customer_id, "similarity": round(s.similarity, 3), "why": list(s.why)}
                    for s in self.similar
                ],
            },
            "notes": self.notes,
        }


def nearest(target: Profile, others: Iterable[Profile], policy: SuggestionPolicy) -> list[Similar]:
    scored = [
        similarity(target, other, policy) for other in others if other.customer_id != target.customer_id
    ]
    kept = [s for s in scored if s.similarity >= policy.min_similarity and s.tags]
    kept.sort(key=lambda s: (-s.similarity, s.customer_id))
    return kept[: policy.neighbours]


def suggest(
    target: Profile,
    others: Iterable[Profile],
    activities: Iterable[Document],
    policy: SuggestionPolicy | None = None,
) -> list[Document]:
    """Suggestions, best first; `activities` are customer-360 `note` documents (with `keyword_tags`):
    the activities whose text fired a keyword rule."""
    policy = policy or SuggestionPolicy()
    neighbours = nearest(target, others, policy)
    total = sum(n.similarity for n in neighbours)
    notes: dict[str, list[Document]] = {}
    for activity in activities:
        for tag, phrases in sorted(activity.get("keyword_tags", {}).items()):
            if tag not in target.tags:
                notes.setdefault(tag, []).append(
                    {
                        "event_id": activity["event_id"],
                        "occurred_at": activity["occurred_at"],
                        "kind": activity["kind"],
                        "deal_id": activity["deal_id"],
                        "matched": phrases,
                    }
                )
    suggestions = []
    for tag in sorted(({tag for n in neighbours for tag in n.tags} | set(notes)) - target.tags):
        having = [n for n in neighbours if tag in n.tags]
        share = sum(n.similarity for n in having) / total if total else 0.0
        mentions = notes.get(tag, [])
        if share < policy.min_share and not mentions:
            continue
        suggestion = Suggestion(tag, share=share, similar=having, notes=mentions)
        if having:
            named = "; ".join(f"{n.customer_id} ({n.similarity:.2f}: {', '.join(n.why)})" for n in having)
            suggestion.because.append(
                f"{len(having)} of {len(neighbours)} similar customers have it "
                f"({share:.0%} of their similarity): {named}"
            )
        if mentions:
            phrases = sorted({p for note in mentions for p in note["matched"]})
            first, last = mentions[0]["occurred_at"][:10], mentions[-1]["occurred_at"][:10]
            span = first if first == last else f"{first} to {last}"
            count = f"{len(mentions)} {'activity' if len(mentions) == 1 else 'activities'}"
            suggestion.because.append(
                f"notes of {count} ({span}) mention " + ", ".join(repr(p) for p in phrases)
            )
        strength = min(1.0, len(mentions) / policy.full_mentions)
        suggestion.score = 1 - (1 - share) * (1 - strength)
        suggestions.append(suggestion)
    ranked = sorted(suggestions, key=lambda s: (-round(s.score, 6), s.tag))
    return [s.document() for s in ranked if s.score >= policy.min_score]
