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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

TagName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# Outside these, a keyword's edge is a word edge: CJK text around an English keyword still counts.
_WORD = "A-Za-z0-9_"
_LOWER_WORD = "a-z0-9_"
# Sentences end after these marks (after NFKC: ！？； are ASCII); a full stop only before space or the
# end, so "1.5" and "e.g." stay inside their sentence.
_SENTENCE_END = re.compile(r"[!?;。\n]|\.(?=\s|$)")
_SPACES = re.compile(r"\s+")
# Characters IGNORECASE matches to an ASCII character they do not lower-case to, or that lower-case to
# more than one (tests derive the list from the running Python): in a text holding one, the needles
# below prove nothing.
_FOLD_STRANGERS = re.compile("[\u0130\u0131\u017f]")
_NOWHERE = 1 << 62


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


def _needle(keyword: str) -> str | None:
    """Lower-cased text every match of the keyword starts with: the longest start of its first word
    whose characters IGNORECASE matches only to characters that lower-case like them (ASCII ones, in
    a text without fold strangers, and characters without case); None when the first is neither."""
    first = keyword.rstrip("*").strip().split()[0]
    end = 0
    while end < len(first) and (first[end].isascii() or _caseless(first[end])):
        end += 1
    return first[:end].lower() or None


def _caseless(character: str) -> bool:
    return character.lower() == character == character.upper()


def _needles(keywords: tuple[str, ...]) -> tuple[str, ...] | None:
    needles = [_needle(k) for k in keywords]
    if not needles or any(n is None for n in needles):
        return None
    # A needle that starts with another one adds no place to look.
    kept = {n for n in needles if n is not None}
    return tuple(sorted(n for n in kept if not any(n != other and n.startswith(other) for other in kept)))


def _starts_regex(words: Iterable[str]) -> str:
    """Matches where one of the words starts, and only there: the words as a tree of their common
    starts, so `re` tries each character once at a place, not once for every word; in plain literals,
    without IGNORECASE, so it skips ahead to the characters they start with."""
    tree: dict[str, dict[str, Any]] = {}
    for word in words:
        node = tree
        for character in word:
            node = node.setdefault(character, {})
        node[""] = {}

    def alternatives(node: dict[str, Any], edge: str = "") -> str:
        if "" in node:
            return ""  # a word ends here: what follows does not matter
        parts = [
            re.escape(character)
            + (edge if re.match(f"[{_LOWER_WORD}]", character) else "")
            + alternatives(rest)
            for character, rest in sorted(node.items())
        ]
        return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"

    # A keyword that starts with a word character starts a word (`keyword_regex`); outside the fold
    # strangers, what lower-cases to a word character is one to IGNORECASE (tests check it).
    return alternatives(tree, edge=f"(?<![{_LOWER_WORD}].)")


@dataclass(frozen=True)
class _Compiled:
    tag: str
    matcher: re.Pattern[str]
    unless: re.Pattern[str] | None
    # Where the matcher can start: at one of its keywords' needles in the lower-cased text, or where
    # one of its patterns matches. None: anywhere (a keyword without a needle, or no keyword).
    needles: tuple[str, ...] | None
    patterns: re.Pattern[str] | None

    def matches_from(self, normal: str, starts: Sequence[int]) -> Iterable[re.Match[str]]:
        """What `matcher.finditer(normal)` finds, given every place where one of the needles starts.
        The matcher alone tries every position against every alternative, most of them English under
        IGNORECASE, which `re` cannot skip ahead to; here it is tried only where a match can start.
        Each match is the leftmost at or after where the previous one ended, and the matcher's first
        choice there: what `finditer` finds, as long as no match is empty."""
        if self.patterns is None:
            # Keywords only: none matches empty, and each starts at a needle.
            found: list[re.Match[str]] = []
            end = 0
            for start in starts:
                if start >= end and (match := self.matcher.match(normal, start)) is not None:
                    found.append(match)
                    end = match.end()
            return found
        return self._matches_with_patterns(normal, starts)

    def _matches_with_patterns(self, normal: str, starts: Sequence[int]) -> Iterable[re.Match[str]]:
        assert self.patterns is not None
        found: list[re.Match[str]] = []
        position = next_start = 0
        pattern_at = -1
        while position <= len(normal):
            while next_start < len(starts) and starts[next_start] < position:
                next_start += 1
            start = starts[next_start] if next_start < len(starts) else _NOWHERE
            if pattern_at < position:
                hit = self.patterns.search(normal, position)
                pattern_at = _NOWHERE if hit is None else hit.start()
            start = min(start, pattern_at)
            if start == _NOWHERE:
                return found
            match = self.matcher.match(normal, start)
            if match is None:
                position = start + 1
            elif match.end() == start:
                # After an empty match `finditer` looks for a longer one at the same place, which a
                # match at a position cannot ask for.
                return self.matcher.finditer(normal)
            else:
                found.append(match)
                position = match.end()
        return found


class TextTagger:
    """Applies a rule set to text; pure and deterministic, compiled once per rule set."""

    def __init__(self, rules: TagRules) -> None:
        self.rules = rules
        self.digest = rules.digest()
        self._compiled = []
        for tag, rule in sorted(rules.tags.items()):
            matcher = _alternation(rule.keywords, rule.patterns)
            assert matcher is not None  # a rule has a keyword or a pattern
            # Numbered the same as in the matcher: keywords have no groups.
            patterns = _alternation((), rule.patterns)
            self._compiled.append(
                _Compiled(tag, matcher, _alternation(rule.unless), _needles(rule.keywords), patterns)
            )
        # Every rule's needles, looked for in one pass: by first character, each with the rules it is
        # a needle of.
        rules_of: dict[str, list[int]] = {}
        for index, compiled in enumerate(self._compiled):
            for needle in compiled.needles or ():
                rules_of.setdefault(needle, []).append(index)
        self._needles_by_first: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        for needle, indexes in sorted(rules_of.items()):
            self._needles_by_first.setdefault(needle[0], []).append((needle, tuple(indexes)))
        self._any_needle = re.compile(_starts_regex(rules_of) if rules_of else "(?!)")
        # Rules that read the text though none of their needles is in it.
        self._unneedled = frozenset(
            i for i, compiled in enumerate(self._compiled) if compiled.needles is None or compiled.patterns
        )

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
        # Each rule to read with, and where its needles start (None: the needles cannot tell, a scan).
        todo: list[tuple[_Compiled, Sequence[int] | None]]
        if _FOLD_STRANGERS.search(normal):
            todo = [(rule, None) for rule in self._compiled]
        else:
            starts = self._needle_starts(normal.lower())
            todo = [(self._compiled[i], starts.get(i, ())) for i in sorted(self._unneedled.union(starts))]
        sentences = None
        found: dict[str, list[str]] = {}
        for rule, rule_starts in todo:
            matches: Iterable[re.Match[str]]
            if rule_starts is None or rule.needles is None:
                matches = rule.matcher.finditer(normal)
            else:
                matches = rule.matches_from(normal, rule_starts)
            phrases: list[str] = []
            for match in matches:
                if not match.group():
                    continue
                if rule.unless is not None:
                    sentences = sentences or _Sentences(normal)
                    if rule.unless.search(sentences.around(match.start())):
                        continue
                phrase = _SPACES.sub(" ", match.group()).lower()
                if phrase not in phrases:
                    phrases.append(phrase)
            if phrases:
                found[rule.tag] = phrases
        return found

    def _needle_starts(self, lower: str) -> dict[int, list[int]]:
        """Where each rule's needles start in `lower`, by rule."""
        starts: dict[int, list[int]] = {}
        position = 0
        while (hit := self._any_needle.search(lower, position)) is not None:
            at = hit.start()
            for needle, indexes in self._needles_by_first[lower[at]]:
                if lower.startswith(needle, at):
                    for index in indexes:
                        starts.setdefault(index, []).append(at)
            position = at + 1
        return starts


class _Sentences:
    """The sentence around a position, cut only when a rule asks for one."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def around(self, position: int) -> str:
        if self._starts is None:
            self._starts = sorted({0, *(m.end() for m in _SENTENCE_END.finditer(self.text))})
        index = bisect_right(self._starts, position) - 1
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self.text)
        return self.text[start:end]
