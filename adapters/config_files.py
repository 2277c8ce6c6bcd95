"""Configuration documents read from YAML or JSON files (tag rules, ERP column mappings), checked in full,
with errors that name the file, the field and the rule."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from domain.text_tags import TagRules, TextTagger

DEFAULTS = Path(__file__).resolve().parent / "defaults"
DEFAULT_ACTION_TAGS = DEFAULTS / "action_tags.yaml"
DEFAULT_TAG_KEYWORDS = DEFAULTS / "tag_keywords.yaml"
DEFAULT_ORDER_MAPPING = DEFAULTS / "order_mapping.yaml"

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file, field and rule."""


def load_config(path: Path, model: type[M], what: str) -> M:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{what} {path}: cannot be read: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{what} {path}: not valid YAML or JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{what} {path}: must be a mapping of fields, not {type(document).__name__}")
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            field = ".".join(str(part) for part in item["loc"]) or "document"
            problems.append(f"{field}: {item['msg']}")
        raise ConfigError(f"{what} {path}: " + "; ".join(problems)) from None


@lru_cache(maxsize=16)
def tagger(path: Path, what: str) -> TextTagger:
    """Rules compiled once per process and file."""
    return TextTagger(load_config(path, TagRules, what))


def action_tagger(path: Path | None) -> TextTagger:
    return tagger(path or DEFAULT_ACTION_TAGS, "action tag rules (SALESLEDGER_ACTION_TAG_RULES)")


def keyword_tagger(path: Path | None) -> TextTagger:
    return tagger(path or DEFAULT_TAG_KEYWORDS, "tag keyword rules (SALESLEDGER_TAG_KEYWORD_RULES)")
