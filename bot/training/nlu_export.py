"""Labelled review items as Rasa NLU training data, for the next `make train`.

Examples of intents the domain knows go to `data/nlu/reviewed.yml` (rewritten from the inbox on every export,
so it never holds an example twice); examples of intents the domain does not know yet go to
`review/new_intents.yml`, outside data/, to be moved in once the intent is added (README: "Teach the bot
something new") — so `rasa data validate` always accepts what is under data/. Examples already anywhere in
data/ are left out, and personal data is replaced by placeholders that keep the entity annotation.

Escalation items (labelled `needs_person` or `fine`) go to `data/escalation/reviewed.yml` instead, in the
escalation examples' format (bot/rasa/escalation_examples.py): the same placeholders, without the annotation.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bot.core.escalation_review import LABELS
from bot.core.review_items import ReviewItem
from bot.domain.yaml_file import load_yaml
from bot.training.personal_data import anonymise

EXPORT_FILE = Path("data") / "nlu" / "reviewed.yml"
NEW_INTENTS_FILE = Path("review") / "new_intents.yml"
NEW_INTENTS_NOTE = [
    '# These intents are not in domain.yml yet. Follow README\'s "Teach the bot something new": add the intent',
    "# and its response, then move its examples into data/nlu/ and run `make validate train reload`.",
]
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")
ESCALATION_FILE = Path("data") / "escalation" / "reviewed.yml"
ESCALATION_HEADER = [
    "# Written by the review export (Export in the console's review inbox, or `python -m bot review export`):",
    "# trainers' verdicts on messages where the bot nearly or wrongly kept a customer from a person.",
    '# person: true is "needs a person", person: false is "fine". Rewritten on every export: move an example to',
    "# another file under data/escalation/ before editing it. Emails, order and phone numbers are placeholders.",
]


@dataclasses.dataclass(frozen=True)
class ExportResult:
    path: str
    examples: int
    per_intent: dict[str, int]
    new_intents: dict[str, int]
    new_intents_path: str | None
    duplicates_left_out: int
    escalation_path: str | None = None
    per_escalation_label: dict[str, int] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def export_labelled(root: Path, items: Iterable[ReviewItem], exported_by: str, now: dt.datetime) -> ExportResult:
    """Write the labelled items under `root` (the project) and say what was written."""
    known = domain_intents(root / "domain.yml")
    seen = existing_examples(root / "data", skip=root / EXPORT_FILE)
    blocks: dict[str, list[str]] = collections.defaultdict(list)
    credits: dict[str, collections.Counter[tuple[str, str]]] = collections.defaultdict(collections.Counter)
    duplicates = 0
    items = list(items)
    escalation_path, per_label, escalation_duplicates = _export_escalation(root, items)
    for item in items:
        if not item.label or item.kind != "intent":
            continue
        example = anonymise(item.text, item.entities)
        key = _key(example)
        if not example or key in seen:
            duplicates += 1
            continue
        seen.add(key)
        blocks[item.label].append(example)
        day = (item.reviewed_at or now).date().isoformat()
        credits[item.label][(item.trainer_name or "a trainer", day)] += 1
    old = {name: lines for name, lines in blocks.items() if name in known}
    new = {name: lines for name, lines in blocks.items() if name not in known}
    header = _header(exported_by, now)
    _write(root / EXPORT_FILE, header, old, credits)
    new_path = None
    (root / NEW_INTENTS_FILE).unlink(missing_ok=True)
    if new:
        note = [*header, *NEW_INTENTS_NOTE]
        _write(root / NEW_INTENTS_FILE, note, new, credits)
        new_path = str(NEW_INTENTS_FILE)
    return ExportResult(
        path=str(EXPORT_FILE),
        examples=sum(len(lines) for lines in old.values()),
        per_intent={name: len(lines) for name, lines in sorted(old.items())},
        new_intents={name: len(lines) for name, lines in sorted(new.items())},
        new_intents_path=new_path,
        duplicates_left_out=duplicates + escalation_duplicates,
        escalation_path=escalation_path,
        per_escalation_label=per_label,
    )


def _export_escalation(root: Path, items: list[ReviewItem]) -> tuple[str | None, dict[str, int], int]:
    """The trainers' escalation verdicts as `person` examples: one per message (the latest verdict wins), none
    already in data/escalation/, sorted. The file has no date, so an export that changes no verdict changes no
    byte, and the judgement (retrained whenever an example file changes) is not retrained for nothing.
    Returns the path written (None when there is no verdict: an earlier file is removed), the count per label
    and the duplicates left out."""
    path = root / ESCALATION_FILE
    seen = existing_escalation_examples(path.parent, skip=path)
    verdicts: dict[str, tuple[str, str]] = {}
    duplicates = 0
    labelled = [i for i in items if i.kind == "escalation" and i.label in LABELS]
    for item in sorted(labelled, key=lambda i: (i.reviewed_at or dt.datetime.min, i.id)):
        example = ANNOTATION.sub(r"\1", anonymise(item.text, item.entities))
        key = _key(example)
        if not example or key in seen:
            duplicates += 1
            continue
        duplicates += key in verdicts
        verdicts[key] = (example, str(item.label))
    if not verdicts:
        path.unlink(missing_ok=True)
        return None, {}, duplicates
    groups = []
    for label, person in LABELS.items():
        examples = sorted((e for e, chosen in verdicts.values() if chosen == label), key=_key)
        if examples:
            groups.append({"person": person, "examples": examples})
    body = yaml.safe_dump({"groups": groups}, sort_keys=False, allow_unicode=True, width=10_000)
    _replace(path, "\n".join(ESCALATION_HEADER) + "\n" + body)
    counts = collections.Counter(label for _, label in verdicts.values())
    return str(ESCALATION_FILE), {label: counts[label] for label in LABELS if counts[label]}, duplicates


def domain_intents(domain_file: Path) -> set[str]:
    domain = load_yaml(domain_file) or {}
    return {next(iter(i)) if isinstance(i, dict) else str(i) for i in domain.get("intents") or []}


def existing_examples(data_dir: Path, skip: Path | None = None) -> set[str]:
    """Every NLU example under data/ (normalised), so an export never repeats one."""
    found: set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        if skip is not None and path.resolve() == skip.resolve():
            continue
        content = load_yaml(path) or {}
        for block in content.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.add(_key(line[2:]))
    return found


def existing_escalation_examples(folder: Path, skip: Path) -> set[str]:
    """Every escalation example in the other files of data/escalation/ (normalised)."""
    found: set[str] = set()
    for path in sorted(folder.glob("*.yml")):
        if path.resolve() == skip.resolve():
            continue
        content = load_yaml(path)
        groups = content.get("groups") if isinstance(content, dict) else None
        for group in groups if isinstance(groups, list) else []:
            texts = group.get("examples") if isinstance(group, dict) else None
            found.update(_key(text) for text in texts or [] if isinstance(text, str))
    return found


def _key(example: str) -> str:
    return re.sub(r"\s+", " ", ANNOTATION.sub(r"\1", example)).strip().lower()


def _header(exported_by: str, now: dt.datetime) -> list[str]:
    return [
        "# Customer messages the bot was unsure about, labelled by trainers in the Frontline review inbox.",
        f"# Exported by {_one_line(exported_by)} on {now:%Y-%m-%d %H:%M} UTC. Rewritten on every export: move an",
        "# example to another file under data/nlu/ before editing it. Emails, order and phone numbers are",
        "# placeholders, not customers' data.",
    ]


def _write(
    path: Path, header: list[str], blocks: dict[str, list[str]], credits: dict[str, collections.Counter]
) -> None:
    lines = [*header, 'version: "3.1"', "nlu:" if blocks else "nlu: []"]
    for intent in sorted(blocks):
        who = ", ".join(
            f"{_one_line(name)} on {day}" + (f" ({count})" if count > 1 else "")
            for (name, day), count in sorted(credits[intent].items(), key=lambda kv: kv[0][1])
        )
        lines += [f"- intent: {intent}", f"  # labelled by {who}", "  examples: |"]
        lines += [f"    - {example}" for example in blocks[intent]]
    _replace(path, "\n".join(lines) + "\n")


def _replace(path: Path, text: str) -> None:
    """Written whole or not at all: Rasa or the judgement never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".yml.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _one_line(text: str) -> str:
    """Safe inside a YAML comment: no line breaks of any kind (U+2028 and U+0085 count in YAML), no control
    characters."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in "CZ" or c == "#" else c for c in text)
    return re.sub(r"\s+", " ", cleaned).strip()
