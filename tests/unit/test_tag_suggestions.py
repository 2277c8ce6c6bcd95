"""Tag suggestions: similar customers' tags and keywords in notes, each suggestion with its reasons, and
never a tag the customer already has."""

from __future__ import annotations

from typing import Any

import pytest

from projections.tag_suggestions import Profile, SuggestionPolicy, similarity, suggest


def profile(customer_id: str, industry: str, region: str, *tags: str) -> Profile:
    return Profile(customer_id, industry, region, frozenset(tags))


def note(event_id: str, day: int, **keyword_tags: list[str]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "occurred_at": f"2026-01-{day:02d}T10:00:00+08:00",
        "kind": "call",
        "deal_id": "d-1",
        "keyword_tags": keyword_tags,
    }


TARGET = profile("c-0", "retail", "CN-E", "strategic", "multi_site")


def test_similarity_is_weighted_tag_overlap_industry_and_region_with_reasons() -> None:
    other = profile("c-1", "retail", "CN-S", "strategic", "expanding")
    found = similarity(TARGET, other, SuggestionPolicy())
    # Jaccard 1/3 * 0.5 + same industry 0.3.
    assert found.similarity == pytest.approx(0.5 / 3 + 0.3, abs=1e-4)
    assert found.why == ("shares 1 of 3 tags (strategic)", "same industry (retail)")
    region_only = similarity(TARGET, profile("c-2", "energy", "CN-E"), SuggestionPolicy())
    assert (region_only.similarity, region_only.why) == (0.2, ("same region (CN-E)",))


def test_tags_of_similar_customers_are_suggested_with_who_has_them_and_why() -> None:
    others = [
        TARGET,
        profile("c-1", "retail", "CN-E", "strategic", "multi_site", "expanding"),
        profile("c-2", "retail", "CN-S", "expanding", "public_sector"),
        # Not similar enough (region only): its tag is not suggested.
        profile("c-3", "energy", "CN-E", "at_risk"),
    ]
    suggestions = suggest(TARGET, others, [])
    # public_sector: only c-2 has it, 0.3 of 1.133 similarity — under a third of the neighbourhood.
    assert [s["tag"] for s in suggestions] == ["expanding"]
    expanding = suggestions[0]
    # c-1: 0.5 * 2/3 + 0.3 + 0.2 = 0.8333; c-2: 0.3; both have it: share 1.
    assert expanding["score"] == 1.0
    assert [c["customer_id"] for c in expanding["similar_customers"]["customers"]] == ["c-1", "c-2"]
    assert expanding["because"] == [
        "2 of 2 similar customers have it (100% of their similarity): "
        "c-1 (0.83: shares 2 of 3 tags (multi_site, strategic), same industry (retail), same region (CN-E)); "
        "c-2 (0.30: same industry (retail))"
    ]
    lenient = suggest(TARGET, others, [], SuggestionPolicy(min_share=0.2, min_score=0.2))
    public = next(s for s in lenient if s["tag"] == "public_sector")
    assert public["similar_customers"]["share"] == pytest.approx(0.3 / (0.8333 + 0.3), abs=1e-3)


def test_keywords_in_notes_suggest_tags_with_the_activities_that_mention_them() -> None:
    activities = [
        note("e-1", 5, expanding=["扩产"]),
        note("e-2", 9, expanding=["new plant"], at_risk=["unhappy"]),
        # The customer has this tag already: never suggested.
        note("e-3", 12, strategic=["战略合作"]),
    ]
    suggestions = suggest(TARGET, [TARGET], activities)
    assert [s["tag"] for s in suggestions] == ["expanding", "at_risk"]
    expanding, at_risk = suggestions
    assert expanding["because"] == [
        "notes of 2 activities (2026-01-05 to 2026-01-09) mention 'new plant', '扩产'"
    ]
    assert [n["event_id"] for n in expanding["notes"]] == ["e-1", "e-2"]
    assert expanding["score"] == pytest.approx(2 / 3, abs=1e-3)
    assert at_risk["because"] == ["notes of 1 activity (2026-01-09) mention 'unhappy'"]


def test_both_kinds_of_evidence_strengthen_one_suggestion() -> None:
    others = [profile("c-1", "retail", "CN-S", "expanding"), profile("c-2", "retail", "CN-S", "new_logo")]
    suggestions = suggest(TARGET, others, [note("e-1", 5, expanding=["扩产"])])
    expanding = next(s for s in suggestions if s["tag"] == "expanding")
    # share 0.5 and one mention (1/3): 1 - 0.5 * 2/3.
    assert expanding["score"] == pytest.approx(1 - 0.5 * (2 / 3), abs=1e-3)
    assert len(expanding["because"]) == 2


def test_never_a_tag_the_customer_has_and_nothing_without_evidence() -> None:
    twin = profile("c-1", "retail", "CN-E", "strategic", "multi_site")
    assert suggest(TARGET, [TARGET, twin], []) == []
    stranger = profile("c-2", "energy", "CN-N", "at_risk")
    assert suggest(TARGET, [stranger], []) == []
