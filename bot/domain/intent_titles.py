"""The words people read for an intent: agents, trainers and supervisors see "Where is my refund", never
`track_refund`. One file beside domain.yml (intent_titles.yml) holds them, so a trainer who adds an intent adds
its title in the same place; an intent without one is still shown in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.yaml_file import load_yaml

TITLES_FILE = "intent_titles.yml"


def in_words(name: str) -> str:
    """ "track_refund" -> "Track refund": the fallback for an intent the file does not name."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


@dataclass(frozen=True)
class IntentTitles:
    titles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, project_dir: Path) -> IntentTitles:
        """The titles in the project's intent_titles.yml; none (every intent in words) when there is no file."""
        path = project_dir / TITLES_FILE
        if not path.is_file():
            return cls()
        document = load_yaml(path) or {}
        titles = document.get("titles") or {} if isinstance(document, dict) else {}
        return cls({str(name): str(title) for name, title in titles.items() if title})

    def title(self, intent: str | None) -> str:
        """What a person reads for `intent`; "" for no intent."""
        if not intent:
            return ""
        return self.titles.get(intent) or in_words(intent)

    def to_json(self) -> dict[str, str]:
        return dict(self.titles)
