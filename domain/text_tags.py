"""Tags found in free text — call notes, meeting transcripts — by configurable keyword rules that work on
Chinese, English and mixed text.

A keyword is a phrase. English is matched case-insensitively on whole words, so "price" does not fire
on "priceless" (end a keyword with `*` to take any ending: "competitor*"); spaces in a keyword match
any run of whitespace; Chinese has no word boundaries and matches anywhere. Text and keywords are
NFKC-normalised first, so full-width letters and punctuation ("ＣＴＯ", "？") read like their ASCII
forms. `patterns` take regular expressions for what a phrase cannot say. `unless` phrases cancel a tag
within the sentence they occur in: "预算批了吗？" asks, it does not report an approval.
"""

# Full-width letters and punctuation are the point of some comments here.
# ruff: noqa: RUF002, RUF003

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

TagName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# Outside these, a keyword's edge is a word edge: CJK text around an English keyword still counts.
_WORD = "A-Za-z0-9_"
# Sentences end at these marks (after NFKC: ！？； are ASCII); a full stop only before space or the end,
# so "1.5" and "e.g." stay inside their sentence.
_SENTENCE_END = re.compile(r"(?<=[!?;。\n])|(?<=\.)(?=\s|$)")


def normal_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _keyword(text: str) -> str:
    keyword = normal_text(text).strip()
    if not keyword.rstrip("*").strip():
        raise ValueError("a keyword needs at least one character besides '*'")
    return keyword


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as error:
        raise ValueError(f"not a valid regular expression: {error}") from None
    return text


Keyword = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_keyword)]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_regex)]


class TagRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    keywords: tuple[Keyword, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    unless: tuple[Keyword, ...] = ()

    @model_validator(mode="after")
    def _matches_something(self) -> TagRule:
        if not self.keywords and not self.patterns:
            raise ValueError("a tag needs at least one keyword or pattern")
        return self


class TagRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    tags: dict[TagName, TagRule] = Field(min_length=1)

    def digest(self) -> str:
        """Names this rule set: a read model built with other rules differs from a fresh replay."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def keyword_regex(keyword: str) -> str:
    prefix = keyword.endswith("*")
    phrase = keyword.rstrip("*").strip()
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    if re.match(f"[{_WORD}]", phrase[0]):
        # The word edge is checked after the first character, not before it: a pattern that starts
        # with a character lets `re` skip ahead to where that character is, and one that starts with
        # a lookbehind tries every position (measured: three times slower on call notes). The
        # lookbehind spans that character and the one before it, so it asks the same question.
        # A word character is never escaped, so the first character of `body` is the phrase's.
        body = f"{body[0]}(?<![{_WORD}].){body[1:]}"
    if prefix:
        body += f"[{_WORD}]*"
    elif re.match(f"[{_WORD}]", phrase[-1]):
        body += f"(?![{_WORD}])"
    return body


def _alternation(keywords: tuple[str, ...], patterns: tuple[str, ...] = ()) -> re.Pattern[str] | None:
    # Longest phrases first, so the phrase reported is the most specific one that matched.
    parts = [keyword_regex(k) for k in sorted(set(keywords), key=lambda k: (-len(k), k))]
    parts += [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


@dataclass(frozen=True)
class _Compiled:
    tag: str
    matcher: re.Pattern[str]
    unless: re.Pattern[str] | None


class TextTagger:
    """Applies a rule set to text; pure and deterministic, compiled once per rule set."""

    def __init__(self, rules: TagRules) -> None:
        self.rules = rules
        self.digest = rules.digest()
        self._compiled = []
        for tag, rule in sorted(rules.tags.items()):
            matcher = _alternation(rule.keywords, rule.patterns)
            assert matcher is not None  # a rule has a keyword or a pattern
            self._compiled.append(_Compiled(tag, matcher, _alternation(rule.unless)))

    def tags(self, text: str | None) -> dict[str, list[str]]:
        """Each tag found, with the phrases that fired it (lower-cased, distinct, in order of appearance)."""
        if not text:
            return {}
        return self.tags_of_normal(normal_text(text))

    def tags_of_normal(self, normal: str) -> dict[str, list[str]]:
        """`tags` of text already NFKC-normalised (`normal_text`): several rule sets reading one text
        normalise it once."""
        if not normal:
            return {}
        sentences = _Sentences(normal)
        found: dict[str, list[str]] = {}
        for rule in self._compiled:
            phrases: list[str] = []
            for match in rule.matcher.finditer(normal):
                if not match.group():
                    continue
                if rule.unless is not None and rule.unless.search(sentences.around(match.start())):
                    continue
                phrase = re.sub(r"\s+", " ", match.group()).lower()
                if phrase not in phrases:
                    phrases.append(phrase)
            if phrases:
                found[rule.tag] = phrases
        return found


class _Sentences:
    """The sentence around a position, cut only when a rule asks for one."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def around(self, position: int) -> str:
        if self._starts is None:
            self._starts = sorted({0, *(m.start() for m in _SENTENCE_END.finditer(self.text))})
        index = bisect_right(self._starts, position) - 1
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self.text)
        return self.text[start:end]
