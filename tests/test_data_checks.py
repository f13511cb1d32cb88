"""The project's own data checks pass on the project, and each catches the mistake it is there for."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.training import data_checks
from bot.training.data_checks import (
    MIN_EXAMPLES,
    NO_TEST_STORY,
    UNKNOWN_INTENT,
    UNKNOWN_RESPONSE,
    UNUSED_RESPONSE,
    Problem,
    ProjectData,
    check_project,
    load_project,
    run_checks,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def copy_project(target: Path) -> Path:
    """Only the files the checks read; the real ones are never touched."""
    for name in ("domain.yml", "config.yml"):
        shutil.copy2(PROJECT_ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PROJECT_ROOT / "data", target / "data", ignore=ignore)
    shutil.copytree(PROJECT_ROOT / "actions", target / "actions", ignore=ignore)
    (target / "tests").mkdir()
    shutil.copy2(PROJECT_ROOT / "tests" / "test_stories.yml", target / "tests" / "test_stories.yml")
    return target


def insert_after(path: Path, anchor: str, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert anchor in content, f"{anchor!r} not in {path}"
    path.write_text(content.replace(anchor, anchor + text, 1), encoding="utf-8")


def nlu_file(intent: str, count: int) -> str:
    examples = "\n".join(f"    - {intent.replace('_', ' ')} question number {n}" for n in range(count))
    return f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n{examples}\n'


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> ProjectData:
    """A copy of the project with one of each mistake, each made so that it trips only its own check.

    - `ask_gift_wrap` has a test story but only 3 examples;
    - `ask_loyalty_points` has 12 examples but no test story;
    - `utter_gift_wrap` is defined and used nowhere;
    - a story names `ask_store_hours` and `utter_store_hours`, which the domain does not have;
    - `utter_gift_note` is used only by an action's code, `utter_ask_review_text` only as review_form's question.
    """
    root = copy_project(tmp_path_factory.mktemp("broken-project"))
    insert_after(root / "domain.yml", "\nintents:\n", "  - ask_gift_wrap\n  - ask_loyalty_points\n")
    insert_after(
        root / "domain.yml",
        "\nresponses:\n",
        '  utter_gift_wrap:\n    - text: "We gift wrap for €3."\n'
        '  utter_gift_note:\n    - text: "Your note is added."\n'
        '  utter_ask_review_text:\n    - text: "A few words about it?"\n',
    )
    (root / "data" / "nlu" / "gift_wrap.yml").write_text(nlu_file("ask_gift_wrap", 3), encoding="utf-8")
    (root / "data" / "nlu" / "loyalty.yml").write_text(nlu_file("ask_loyalty_points", 12), encoding="utf-8")
    insert_after(
        root / "tests" / "test_stories.yml",
        "\nstories:\n",
        "- story: gift wrap\n  steps:\n  - intent: ask_gift_wrap\n    user: can you gift wrap it\n"
        "  - action: utter_no_problem\n",
    )
    insert_after(
        root / "data" / "stories.yml",
        "\nstories:\n",
        "- story: opening hours\n  steps:\n  - intent: ask_store_hours\n  - action: utter_store_hours\n",
    )
    (root / "actions" / "gift_note.py").write_text(
        textwrap.dedent(
            """
            def run(dispatcher):
                dispatcher.utter_message(response="utter_gift_note")
            """
        ),
        encoding="utf-8",
    )
    return load_project(root)


def problems_of(check: str, data: ProjectData) -> list[Problem]:
    return [p for p in run_checks(data) if p.check == check]


def test_the_project_passes_every_check():
    assert check_project(PROJECT_ROOT) == []


def test_an_intent_with_three_examples_is_reported(broken):
    assert problems_of(MIN_EXAMPLES, broken) == [
        Problem(MIN_EXAMPLES, "ask_gift_wrap", "3 NLU examples in data/, at least 10 needed")
    ]


def test_the_minimum_number_of_examples_can_be_chosen(broken):
    assert [p.subject for p in run_checks(broken, min_examples=13) if p.check == MIN_EXAMPLES] == [
        "ask_gift_wrap",
        "ask_loyalty_points",
    ]
    assert not [p for p in run_checks(broken, min_examples=3) if p.check == MIN_EXAMPLES]


def test_a_response_nothing_uses_is_reported(broken):
    assert [p.subject for p in problems_of(UNUSED_RESPONSE, broken)] == ["utter_gift_wrap"]


def test_a_response_used_by_an_actions_code_or_as_a_forms_question_counts_as_used(broken):
    assert "utter_gift_note" in broken.code_names
    reported = {p.subject for p in problems_of(UNUSED_RESPONSE, broken)}
    assert not reported & {"utter_gift_note", "utter_ask_review_text"}


def test_an_intent_without_a_test_story_is_reported(broken):
    assert problems_of(NO_TEST_STORY, broken) == [
        Problem(NO_TEST_STORY, "ask_loyalty_points", "no story in tests/test_stories.yml has it")
    ]


def test_a_story_naming_an_unknown_intent_or_response_is_reported(broken):
    where = "story 'opening hours' (data/stories.yml)"
    assert problems_of(UNKNOWN_INTENT, broken) == [
        Problem(UNKNOWN_INTENT, "ask_store_hours", f"not in domain.yml, but named by {where}")
    ]
    assert problems_of(UNKNOWN_RESPONSE, broken) == [
        Problem(UNKNOWN_RESPONSE, "utter_store_hours", f"not in domain.yml, but named by {where}")
    ]


def test_each_mistake_trips_only_its_own_check(broken):
    assert [(p.check, p.subject) for p in run_checks(broken)] == [
        (MIN_EXAMPLES, "ask_gift_wrap"),
        (UNUSED_RESPONSE, "utter_gift_wrap"),
        (NO_TEST_STORY, "ask_loyalty_points"),
        (UNKNOWN_INTENT, "ask_store_hours"),
        (UNKNOWN_RESPONSE, "utter_store_hours"),
    ]


def test_main_prints_one_line_per_problem_and_a_summary_and_fails(broken, monkeypatch, capsys):
    monkeypatch.setattr(data_checks, "load_project", lambda root: broken)
    assert data_checks.main(["--root", "anywhere"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "min-examples: ask_gift_wrap: 3 NLU examples in data/, at least 10 needed"
    assert len(lines) == 6
    assert lines[-1] == (
        "data checks: 5 problems (min-examples 1, unused-response 1, no-test-story 1, unknown-intent 1, "
        "unknown-response 1)"
    )


def test_main_succeeds_when_there_is_nothing_to_fix(broken, monkeypatch, capsys):
    monkeypatch.setattr(data_checks, "load_project", lambda root: broken)
    monkeypatch.setattr(data_checks, "run_checks", lambda data, min_examples: [])
    assert data_checks.main([]) == 0
    assert capsys.readouterr().out.startswith("data checks passed: 37 intents, 25 responses")
