"""The customer-360 read model as the service runs it: tag rules from settings, or the bundled ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.config_files import action_tagger, keyword_tagger
from adapters.settings import Settings
from projections.customer_360 import Customer360


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def customer_360(settings: Settings) -> Callable[[], Customer360]:
    # Rules load when a runner first builds the model, not when the registry is listed, so a bad rules
    # file fails the commands that use it, each with the file and field named.
    def build() -> Customer360:
        return Customer360(
            action_tagger(_path(settings.action_tag_rules)),
            keyword_tagger(_path(settings.tag_keyword_rules)),
        )

    return build
