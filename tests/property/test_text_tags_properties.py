"""The tagger tries each rule's matcher only where a keyword's needle or a pattern says a match can
start; on any text it finds what the matcher alone, run over the whole text, finds: the same tags, the
same phrases in the same order."""

# Full-width letters and punctuation are the point of some strings here.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.config_files import DEFAULT_ACTION_TAGS, DEFAULT_TAG_KEYWORDS, load_config
from domain.text_tags import TagRules, TextTagger, _alternation, normal_text

BUNDLED = [load_config(path, TagRules, "tag rules") for path in (DEFAULT_ACTION_TAGS, DEFAULT_TAG_KEYWORDS)]
TAGGERS = [TextTagger(rules) for rules in BUNDLED]


# Where sentences start: after !?;。 or a line end, and after a full stop before space or the end.
SENTENCE_STARTS = re.compile(r"(?<=[!?;。\n])|(?<=\.)(?=\s|$)")


def sentence_around(text: str, position: int) -> str:
    starts = sorted({0, *(m.start() for m in SENTENCE_STARTS.finditer(text))})
    start = max(s for s in starts if s <= position)
    return text[start : min([s for s in starts if s > position] or [len(text)])]


def reference_tags(rules: TagRules, normal: str) -> dict[str, list[str]]:
    """Every rule's matcher over the whole text (`finditer`); a match counts unless its sentence
    cancels it."""
    if not normal:
        return {}
    found: dict[str, list[str]] = {}
    for tag, rule in sorted(rules.tags.items()):
        matcher, unless = _alternation(rule.keywords, rule.patterns), _alternation(rule.unless)
        assert matcher is not None
        phrases: list[str] = []
        for match in matcher.finditer(normal):
            if not match.group():
                continue
            if unless is not None and unless.search(sentence_around(normal, match.start())):
                continue
            phrase = re.sub(r"\s+", " ", match.group()).lower()
            if phrase not in phrases:
                phrases.append(phrase)
        if phrases:
            found[tag] = phrases
    return found


def _agree(tagger: TextTagger, text: str) -> None:
    fast = tagger.tags_of_normal(text)
    assert list(fast.items()) == list(reference_tags(tagger.rules, text).items())


def _spellings(phrase: str) -> st.SearchStrategy[str]:
    return st.sampled_from([phrase, phrase.upper(), phrase.lower(), phrase.title(), phrase.swapcase()])


PHRASES = sorted(
    {
        spelling
        for rules in BUNDLED
        for rule in rules.tags.values()
        for phrase in (*rule.keywords, *rule.unless)
        for spelling in (phrase.rstrip("*"), phrase.rstrip("*") + "s", phrase.replace(" ", "\t"))
    }
)
# Latin, Chinese and full-width text, sentence ends, whitespace of several kinds, and characters that
# IGNORECASE matches to ASCII letters though they lower-case otherwise (İ ı ſ K).
NOISE = "ab xyZ_1 价格预算批了吗决策人,.?!;。？！\n\t\u3000ＣＴＯ İıſ\u212aÉéß"
pieces = st.one_of(st.sampled_from(PHRASES).flatmap(_spellings), st.text(NOISE, max_size=6))
texts = st.lists(pieces, max_size=12).map("".join)


@settings(max_examples=1500, deadline=None)
@given(text=texts)
def test_the_bundled_rules_find_what_their_matchers_find_over_the_whole_text(text: str) -> None:
    for tagger in TAGGERS:
        _agree(tagger, normal_text(text))
        # Not NFKC-normalised either (ſ and K are, then): the needles must not miss a match there.
        _agree(tagger, text)


# Keywords that start with a character that has case and is not ASCII have no needle, among them
# characters IGNORECASE matches to others that lower-case otherwise (σ ς Σ, µ μ): their rules are
# scanned whole. Patterns can match empty, refer back to their groups, look behind or anchor.
KEYWORD_ALPHABET = "abAB_-. 价格Éeßsσς Σµμ"
PATTERNS = [
    "(?:)",
    "(?=a)",
    "a*",
    r"\bpr",
    r"(a)\1",
    "^a",
    "(?<=价)格",
    "b|",
    "b+?",
    r"(?P<x>[ab])(?P=x)",
    "a$",
    r"\s",
    # Empty first, longer at the same place after an empty match.
    "a*?",
    "(?:)|ab",
]
keywords = st.text(KEYWORD_ALPHABET, min_size=1, max_size=5).filter(lambda k: k.strip(" *") != "")
prefixes = st.tuples(keywords, st.booleans()).map(lambda kp: kp[0] + "*" * kp[1])
rule_sets = st.dictionaries(
    st.sampled_from(["t_a", "t_b", "t_c"]),
    st.fixed_dictionaries(
        {
            "keywords": st.lists(prefixes, max_size=4),
            "patterns": st.lists(st.sampled_from(PATTERNS), max_size=2, unique=True),
            "unless": st.lists(keywords, max_size=2),
        }
    ).filter(lambda rule: bool(rule["keywords"] or rule["patterns"])),
    min_size=1,
)


@settings(max_examples=1500, deadline=None)
@given(tags=rule_sets, data=st.data())
def test_any_rules_find_what_their_matchers_find_over_the_whole_text(
    tags: dict[str, dict[str, list[str]]], data: st.DataObject
) -> None:
    tagger = TextTagger(TagRules.model_validate({"tags": tags}))
    # Text made of the rules' own phrases (overlapping, in any case) and of noise.
    phrases = [p.rstrip("*") for rule in tags.values() for p in (*rule["keywords"], *rule["unless"])]
    noise = st.text(KEYWORD_ALPHABET + "İıſ\u212a?\n", max_size=4)
    piece = st.one_of(st.sampled_from(phrases).flatmap(_spellings), noise) if phrases else noise
    text = "".join(data.draw(st.lists(piece, max_size=8)))
    _agree(tagger, text)
    _agree(tagger, normal_text(text))
