"""Action tags from transcripts: the bundled rules on Chinese, English and mixed text, whole-word English
matching, sentences that cancel a tag, and rule files refused with the field named."""

# Chinese text is punctuated with full-width marks on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.config_files import DEFAULT_ACTION_TAGS, DEFAULT_TAG_KEYWORDS, load_config
from domain import text_tags
from domain.text_tags import TagRules, TextTagger, keyword_regex


@pytest.fixture(scope="module")
def tagger() -> TextTagger:
    return TextTagger(load_config(DEFAULT_ACTION_TAGS, TagRules, "action tag rules"))


def test_chinese_transcript(tagger: TextTagger) -> None:
    text = "客户：这个方案太贵了，能不能降价？\n客户：友商也在报价。\n客户：最后由总经理拍板，预算已批。"
    assert tagger.tags(text) == {
        "budget_approved": ["预算已批"],
        "competitor_mentioned": ["友商", "也在报价"],
        "decision_chain_confirmed": ["拍板"],
        "price_objection": ["太贵", "降价"],
    }


def test_english_transcript_any_case_and_spacing(tagger: TextTagger) -> None:
    text = (
        "Customer: honestly this is TOO   Expensive for us.\n"
        "Customer: the CFO is the Decision Maker and the budget has been approved.\n"
        "Customer: two competitors quoted too."
    )
    assert tagger.tags(text) == {
        "budget_approved": ["budget has been approved"],
        "competitor_mentioned": ["competitors"],
        "decision_chain_confirmed": ["decision maker"],
        "price_objection": ["too expensive"],
    }


def test_mixed_and_full_width_text(tagger: TextTagger) -> None:
    # English inside Chinese with no spaces, and full-width Latin letters.
    text = "客户说这个报价too expensive了，ＣＯＭＰＥＴＩＴＯＲ给了更低价，budget approved了。"
    assert tagger.tags(text) == {
        "budget_approved": ["budget approved"],
        "competitor_mentioned": ["competitor"],
        "price_objection": ["too expensive"],
    }


def test_unrelated_text_fires_nothing(tagger: TextTagger) -> None:
    for text in (
        "The weather was lovely and the demo room was booked. 天气很好，会议室已经订好。",
        "A priceless view from the office; the expensive-looking lobby impressed nobody.",
        "We talked about football and the new canteen menu.",
        "",
    ):
        assert tagger.tags(text) == {}, text


def test_a_question_or_negation_cancels_the_tag_in_its_sentence_only(tagger: TextTagger) -> None:
    assert tagger.tags("预算批了吗？") == {}
    assert tagger.tags("Is the budget approved? Who is the decision maker?") == {}
    assert tagger.tags("The budget is not approved yet.") == {}
    # The question cancels its own sentence, not the statement after it.
    assert tagger.tags("预算批了吗？批了，预算已批。") == {"budget_approved": ["预算已批"]}
    # A price objection asked as a question is still a price objection.
    assert tagger.tags("价格能不能再低一点？") == {"price_objection": ["价格能不能"]}


def test_english_keywords_match_whole_words_only() -> None:
    tagger = TextTagger(TagRules.model_validate({"tags": {"price": {"keywords": ["price", "RFP"]}}}))
    assert tagger.tags("A priceless moment, the pricey option, an RFPs folder.") == {}
    assert tagger.tags("Price, again. 价格price问题; rfp next week") == {"price": ["price", "rfp"]}


def test_a_match_is_not_read_again_from_inside_by_its_own_rule() -> None:
    # As a scan does: the next match starts where the last one ended.
    tagger = TextTagger(TagRules.model_validate({"tags": {"price": {"keywords": ["降价", "价格"]}}}))
    assert tagger.tags("能降价格吗") == {"price": ["降价"]}
    assert tagger.tags("降价,价格") == {"price": ["降价", "价格"]}


def test_prefix_keywords_and_patterns() -> None:
    rules = TagRules.model_validate(
        {
            "tags": {
                "delay": {"keywords": ["postpone*"]},
                "steep": {"patterns": [r"price[s]? (is|are) (very )?steep"]},
            }
        }
    )
    tagger = TextTagger(rules)
    assert tagger.tags("They postponed twice; prices are very steep.") == {
        "delay": ["postponed"],
        "steep": ["prices are very steep"],
    }
    assert tagger.tags("No delays, a steep hill.") == {}


def test_the_bundled_keyword_rules_load() -> None:
    rules = load_config(DEFAULT_TAG_KEYWORDS, TagRules, "tag keyword rules")
    assert TextTagger(rules).tags("客户计划明年扩产，新工厂在苏州") == {"expanding": ["扩产", "新工厂"]}


@pytest.mark.parametrize(
    ("tags", "field", "rule"),
    [
        ({"x": {}}, "tags.x", "at least one keyword or pattern"),
        ({"x": {"patterns": ["(unclosed"]}}, "tags.x.patterns.0", "not a valid regular expression"),
        ({"Bad Tag": {"keywords": ["a"]}}, "tags.Bad Tag", "pattern"),
        ({"x": {"keywords": ["*"]}}, "tags.x.keywords.0", "besides '*'"),
        ({"x": {"keyword": ["a"]}}, "tags.x.keyword", "Extra inputs"),
    ],
)
def test_bad_rules_name_the_field(tags: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TagRules.model_validate({"tags": tags})
    problems = [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in raised.value.errors()]
    assert any(loc.startswith(field) and rule in msg for loc, msg in problems), problems


def test_the_rule_set_digest_changes_with_the_rules() -> None:
    one = TagRules.model_validate({"tags": {"x": {"keywords": ["a"]}}})
    same = TagRules.model_validate({"tags": {"x": {"keywords": ["a"]}}})
    other = TagRules.model_validate({"tags": {"x": {"keywords": ["b"]}}})
    assert one.digest() == same.digest() != other.digest()


def _edge_first_regex(keyword: str) -> str:
    """How a keyword was compiled before its word edge moved after the first character: the reference
    the faster form must agree with."""
    prefix = keyword.endswith("*")
    phrase = keyword.rstrip("*").strip()
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    if re.match("[A-Za-z0-9_]", phrase[0]):
        body = f"(?<![A-Za-z0-9_]){body}"
    if prefix:
        body += "[A-Za-z0-9_]*"
    elif re.match("[A-Za-z0-9_]", phrase[-1]):
        body += "(?![A-Za-z0-9_])"
    return body


_ALPHABET = "abcAB_1 -.\t价格ſKİ"


@settings(max_examples=1000)
@given(
    st.text(_ALPHABET, min_size=1, max_size=8).filter(lambda k: k.rstrip("*").strip() != ""),
    st.booleans(),
    st.text(_ALPHABET, max_size=40),
)
def test_the_word_edge_after_the_first_character_matches_exactly_what_the_edge_before_it_did(
    keyword: str, prefix: bool, text: str
) -> None:
    keyword = keyword.strip() + ("*" if prefix else "")
    fast = re.compile(keyword_regex(keyword), re.IGNORECASE)
    reference = re.compile(_edge_first_regex(keyword), re.IGNORECASE)
    spans = [(m.start(), m.group()) for m in fast.finditer(text)]
    assert spans == [(m.start(), m.group()) for m in reference.finditer(text)]


# Every character there is, for the two facts the tagger's needles stand on (checked against the
# Unicode tables of the Python running the tests).
_EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def test_the_fold_strangers_are_the_characters_lower_casing_does_not_read_like_ignorecase() -> None:
    strangers = {x for x in _EVERY_CHARACTER if len(x.lower()) != 1}
    for ascii_character in map(chr, range(128)):
        matched = re.findall(re.escape(ascii_character), _EVERY_CHARACTER, re.IGNORECASE)
        strangers.update(x for x in matched if x.lower() != ascii_character.lower())
    assert strangers == set(re.findall(text_tags._FOLD_STRANGERS, _EVERY_CHARACTER))


def test_ignorecase_matches_a_character_without_case_to_itself_alone() -> None:
    caseless = [x for x in _EVERY_CHARACTER if text_tags._caseless(x)]
    ranges, start = [], 0
    for index in range(1, len(caseless) + 1):
        if index == len(caseless) or ord(caseless[index]) != ord(caseless[index - 1]) + 1:
            ranges.append(f"{re.escape(caseless[start])}-{re.escape(caseless[index - 1])}")
            start = index
    assert re.findall(f"[{''.join(ranges)}]", _EVERY_CHARACTER, re.IGNORECASE) == caseless


def test_outside_the_fold_strangers_what_lower_cases_to_a_word_character_is_one_to_ignorecase() -> None:
    strangers = set(re.findall(text_tags._FOLD_STRANGERS, _EVERY_CHARACTER))
    lower_word = re.compile(f"[{text_tags._LOWER_WORD}]")
    lowered_into_words = {
        x for x in _EVERY_CHARACTER if x not in strangers and lower_word.fullmatch(x.lower()) is not None
    }
    assert lowered_into_words <= set(re.findall(f"[{text_tags._WORD}]", _EVERY_CHARACTER, re.IGNORECASE))
