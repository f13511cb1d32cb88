"""The project's own data checks, run by `make validate` after `rasa data validate --fail-on-warnings`.

Rasa checks that the data is well formed and consistent; these catch what someone who has just added an intent
tends to forget: enough NLU examples, a test story, a use for every response, and stories that name only intents
and responses the domain has. The files are read with Rasa's own loaders, so every format Rasa accepts (intents
with properties, `or` steps, checkpoints, several NLU files) is read the way training reads it.

    python -m bot.training.data_checks [--root .] [--min-examples 10]
"""

from __future__ import annotations

import argparse
import ast
import collections
import dataclasses
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from rasa.shared.core.constants import DEFAULT_INTENTS, USER_INTENT_OUT_OF_SCOPE
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.training_data.structures import RuleStep, StoryStep
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.message import Message

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "domain.yml"
CONFIG = "config.yml"
DATA = "data"
TEST_STORIES = "tests/test_stories.yml"
ACTIONS = "actions"

MIN_EXAMPLES = "min-examples"
UNUSED_RESPONSE = "unused-response"
NO_TEST_STORY = "no-test-story"
UNKNOWN_INTENT = "unknown-intent"
UNKNOWN_RESPONSE = "unknown-response"
CHECKS = (MIN_EXAMPLES, UNUSED_RESPONSE, NO_TEST_STORY, UNKNOWN_INTENT, UNKNOWN_RESPONSE)

NOT_FROM_TEXT = frozenset(DEFAULT_INTENTS) - {USER_INTENT_OUT_OF_SCOPE}
"""Rasa's own intents that no NLU example trains: `restart`, `back` and `session_start` come from Rasa or a
`/restart` payload, `nlu_fallback` from the FallbackClassifier. They need neither examples nor a test story.
(`out_of_scope` is Rasa's too, but it is trained from examples like any other intent.)"""

RASA_RESPONSES = frozenset({"utter_restart", "utter_back", "utter_default", "utter_ask_rephrase"})
"""Responses Rasa's default actions send when the domain has them (action_restart, action_back,
action_default_fallback, action_default_ask_rephrase): defining one is using it."""

WITHOUT_TEST_STORY: frozenset[str] = frozenset()
"""Intents allowed to have no story in tests/test_stories.yml, each with a comment saying why. Empty: every intent
of domain.yml has one today, so a new intent must come with its test story."""


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One thing to fix, printed as `check: subject: message`."""

    check: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Block:
    """A story or rule reduced to the names the checks need."""

    kind: str
    name: str
    source: str
    intents: frozenset[str]
    actions: frozenset[str]

    def label(self) -> str:
        return f"{self.kind} '{self.name}' ({self.source})"


@dataclasses.dataclass(frozen=True)
class ProjectData:
    """What the checks read from the project: the domain, the NLU examples, stories, rules and test stories."""

    intents: frozenset[str]
    """Declared in domain.yml (Rasa's default intents only when declared there)."""
    known_intents: frozenset[str]
    """What stories may name: the declared intents and Rasa's default ones."""
    responses: frozenset[str]
    forms: dict[str, tuple[str, ...]]
    examples: collections.Counter[str]
    training: tuple[Block, ...]
    tests: tuple[Block, ...]
    code_names: frozenset[str]


def check_project(root: Path, min_examples: int = 10) -> list[Problem]:
    """Runs every check on the project in `root`.

    Args:
        root: the project folder, with domain.yml, config.yml, data/, tests/test_stories.yml and actions/.
        min_examples: the fewest NLU examples an intent may have.

    Returns:
        The problems found, sorted by check and subject; empty when the data is fine.
    """
    return run_checks(load_project(root), min_examples)


def load_project(root: Path) -> ProjectData:
    """Reads the project with Rasa's loaders (its warnings are `rasa data validate`'s business, so silenced).

    Args:
        root: the project folder.

    Returns:
        The names and counts the checks need.
    """
    from rasa.shared.core.training_data.loading import load_data_from_files
    from rasa.shared.importers.importer import TrainingDataImporter

    root = Path(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importer = TrainingDataImporter.load_from_config(str(root / CONFIG), str(root / DOMAIN), [str(root / DATA)])
        domain = importer.get_domain()
        nlu = importer.get_nlu_data()
        training = importer.get_stories().story_steps
        test_file = root / TEST_STORIES
        tests = load_data_from_files([str(test_file)], domain) if test_file.exists() else []
    return ProjectData(
        intents=frozenset(_declared_intents(domain)),
        known_intents=frozenset(domain.intents),
        responses=frozenset(domain.responses),
        forms={name: tuple(form.get("required_slots", ())) for name, form in domain.forms.items()},
        examples=collections.Counter(nlu.number_of_examples_per_intent),
        training=tuple(_blocks(training, root)),
        tests=tuple(_blocks(tests, root)),
        code_names=frozenset(_response_names_in_code(root / ACTIONS)),
    )


def run_checks(data: ProjectData, min_examples: int = 10) -> list[Problem]:
    """Every check on data already loaded.

    Args:
        data: the project, from `load_project`.
        min_examples: the fewest NLU examples an intent may have.

    Returns:
        The problems found, sorted by check and subject.
    """
    problems = [
        *_too_few_examples(data, min_examples),
        *_unused_responses(data),
        *_intents_without_test_story(data),
        *_unknown_names(data),
    ]
    return sorted(set(problems), key=lambda p: (CHECKS.index(p.check), p.subject, p.message))


def _too_few_examples(data: ProjectData, min_examples: int) -> Iterable[Problem]:
    for intent in sorted(data.intents - NOT_FROM_TEXT):
        count = data.examples[intent]
        if count < min_examples:
            yield Problem(MIN_EXAMPLES, intent, f"{count} NLU examples in {DATA}/, at least {min_examples} needed")


def _unused_responses(data: ProjectData) -> Iterable[Problem]:
    used = set(RASA_RESPONSES) | data.code_names
    for block in (*data.training, *data.tests):
        used |= block.actions
    for form, slots in data.forms.items():
        used |= {f"utter_ask_{slot}" for slot in slots} | {f"utter_ask_{form}_{slot}" for slot in slots}
    for response in sorted(data.responses - used):
        yield Problem(
            UNUSED_RESPONSE,
            response,
            f"not in any rule or story of {DATA}/, test story, form question or Python code in {ACTIONS}/",
        )


def _intents_without_test_story(data: ProjectData) -> Iterable[Problem]:
    tested = set().union(*(block.intents for block in data.tests))
    for intent in sorted(data.intents - tested - NOT_FROM_TEXT - WITHOUT_TEST_STORY):
        yield Problem(NO_TEST_STORY, intent, f"no story in {TEST_STORIES} has it")


def _unknown_names(data: ProjectData) -> Iterable[Problem]:
    unknown_intents: dict[str, list[str]] = collections.defaultdict(list)
    unknown_responses: dict[str, list[str]] = collections.defaultdict(list)
    for block in (*data.training, *data.tests):
        for intent in block.intents - data.known_intents:
            unknown_intents[intent].append(block.label())
        for action in block.actions:
            if action.startswith("utter_") and action not in data.responses:
                unknown_responses[action].append(block.label())
    for intent, where in sorted(unknown_intents.items()):
        yield Problem(UNKNOWN_INTENT, intent, f"not in {DOMAIN}, but named by {_listing(where)}")
    for response, where in sorted(unknown_responses.items()):
        yield Problem(UNKNOWN_RESPONSE, response, f"not in {DOMAIN}, but named by {_listing(where)}")


def _listing(labels: list[str], limit: int = 3) -> str:
    """The first few places, without repeats; a typo used everywhere should not print a page."""
    unique = list(dict.fromkeys(labels))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def _declared_intents(domain: Domain) -> list[str]:
    """The intents written in domain.yml: `domain.intents` also has every default intent Rasa adds."""
    declared = domain.as_dict().get("intents", [])
    return [next(iter(entry)) if isinstance(entry, dict) else str(entry) for entry in declared]


def _blocks(steps: Sequence[StoryStep], root: Path) -> Iterable[Block]:
    for step in steps:
        intents = {
            Message.separate_intent_response_key(e.intent_name)[0]
            for e in step.events
            if isinstance(e, UserUttered) and e.intent_name
        }
        actions = {e.action_name for e in step.events if isinstance(e, ActionExecuted) and e.action_name}
        yield Block(
            kind="rule" if isinstance(step, RuleStep) else "story",
            name=step.block_name,
            source=_relative(step.source_name, root),
            intents=frozenset(filter(None, intents)),
            actions=frozenset(actions),
        )


def _relative(source: str | None, root: Path) -> str:
    if not source:
        return "?"
    try:
        return str(Path(source).resolve().relative_to(root.resolve()))
    except ValueError:
        return source


def _response_names_in_code(folder: Path) -> set[str]:
    """String literals that are response names, as in `dispatcher.utter_message(response="utter_x")`.

    Whole literals only, so a docstring that mentions `utter_x` does not count as using it.
    """
    names: set[str] = set()
    for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names.update(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("utter_")
        )
    return names


def summary(problems: Sequence[Problem], data: ProjectData | None = None) -> str:
    """One line: what failed, by check, or what passed."""
    if problems:
        counts = collections.Counter(p.check for p in problems)
        by_check = ", ".join(f"{check} {counts[check]}" for check in CHECKS if counts[check])
        return f"data checks: {len(problems)} problem{'s' if len(problems) != 1 else ''} ({by_check})"
    if data is None:
        return "data checks passed"
    return (
        f"data checks passed: {len(data.intents)} intents, {len(data.responses)} responses, "
        f"{len(data.training)} rules and stories, {len(data.tests)} test stories"
    )


def main(argv: list[str] | None = None) -> int:
    """Prints every problem, one a line, then a summary.

    Args:
        argv: command-line arguments (`--root`, `--min-examples`); `sys.argv[1:]` when None.

    Returns:
        The exit status: 1 when there are problems, 0 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the project folder")
    parser.add_argument("--min-examples", type=int, default=10, help="fewest NLU examples per intent")
    args = parser.parse_args(argv)
    try:
        data = load_project(args.root)
    except (RasaException, OSError) as error:
        print(f"data checks: cannot read the project in {args.root}: {error}")
        return 1
    problems = run_checks(data, args.min_examples)
    for problem in problems:
        print(problem)
    print(summary(problems, data))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
