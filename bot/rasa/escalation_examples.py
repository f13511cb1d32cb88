"""The escalation judgement's training examples: our own writing in `data/escalation/`, and trainers' labels.

Each file holds groups of messages that share labels: how the customer feels (`emotion`: anger,
frustration, distress or none; `strength`: none, mild or strong) and what it is about (`topics` that need
a person). `person` says whether a person should step in; when a group leaves it out it follows from the
labels (strong feelings or any topic, about the shop). `shop: false` marks chit-chat and posts about life: a
person from the shop cannot help with those, however strong the feeling. The review inbox's export adds
groups with only `person` set.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.domain.errors import FrontlineError
from bot.domain.yaml_file import load_yaml

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "escalation"
EMOTIONS = ("none", "anger", "frustration", "distress")
STRENGTHS = ("none", "mild", "strong")
TOPICS = (
    "fraud",
    "account_takeover",
    "data_exposure",
    "privacy_request",
    "legal",
    "safety",
    "bereavement",
    "several_problems",
    "tangled_money",
    "business",
    "customs",
    "accessibility",
)


class ExamplesError(FrontlineError, ValueError):
    """A training file the judgement cannot learn from; the message names the file and the group."""


@dataclasses.dataclass(frozen=True)
class Example:
    text: str
    emotion: str | None = "none"
    strength: str | None = "none"
    topics: tuple[str, ...] = ()
    person: bool = False
    shop: bool = True
    """About something the shop can help with; chit-chat and posts about life are not (`shop: false`)."""

    @property
    def labelled_feeling(self) -> bool:
        """Trainers' person/fine labels say nothing about the kind of feeling or the topic."""
        return self.emotion is not None


def load_examples(folder: Path = EXAMPLES_DIR) -> list[Example]:
    examples: list[Example] = []
    for path in example_files(folder):
        examples.extend(_read(path))
    if not examples:
        raise ExamplesError(f"no escalation examples in {folder}")
    return examples


def example_files(folder: Path = EXAMPLES_DIR) -> list[Path]:
    return sorted(folder.glob("*.yml")) if folder.is_dir() else []


def fingerprint(folder: Path = EXAMPLES_DIR) -> str:
    """Changes whenever an example file does, so Rasa retrains the judgement (its cache cannot see these files)."""
    digest = hashlib.sha256()
    for path in example_files(folder):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read(path: Path) -> Iterable[Example]:
    try:
        document = load_yaml(path) or {}
    except yaml.YAMLError as error:
        raise ExamplesError(f"{path.name}: not valid YAML ({error})") from error
    groups = document.get("groups") if isinstance(document, dict) else None
    if not isinstance(groups, list):
        raise ExamplesError(f"{path.name}: expected a list under 'groups'")
    for number, group in enumerate(groups, start=1):
        yield from _group(group, f"{path.name}, group {number}")


def _group(group: Any, where: str) -> Iterable[Example]:
    if not isinstance(group, dict) or not isinstance(group.get("examples"), list):
        raise ExamplesError(f"{where}: a group needs a list of 'examples'")
    only_person = not {"emotion", "strength", "topics", "shop"} & set(group)
    emotion = None if only_person else _one_of(group.get("emotion", "none"), EMOTIONS, "emotion", where)
    strength = None if only_person else _one_of(group.get("strength", "none"), STRENGTHS, "strength", where)
    topics = tuple(_one_of(t, TOPICS, "topic", where) for t in group.get("topics") or ())
    if only_person and "person" not in group:
        raise ExamplesError(f"{where}: say 'emotion', 'strength', 'topics' or 'person'")
    shop = bool(group.get("shop", True))
    person = bool(group["person"]) if "person" in group else shop and (strength == "strong" or bool(topics))
    for text in group["examples"]:
        if not isinstance(text, str) or not text.strip():
            raise ExamplesError(f"{where}: every example must be a non-empty string")
        yield Example(text.strip(), emotion, strength, topics, person, shop)


def _one_of(value: Any, allowed: Sequence[str], what: str, where: str) -> str:
    if value not in allowed:
        raise ExamplesError(f"{where}: unknown {what} {value!r} (one of {', '.join(allowed)})")
    return str(value)
