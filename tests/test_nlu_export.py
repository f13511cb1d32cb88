"""Labelled review items as Rasa NLU training data: read by Rasa, never repeated, no personal data, and they train."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.validator import Validator

from bot.core.review_items import ReviewItem
from bot.rasa.escalation_examples import load_examples
from bot.training.nlu_export import export_labelled
from tests.rasa_stack import PROJECT_ROOT, VENV_BIN

REVIEWED = dt.datetime(2024, 5, 6, 9, 30)
NOW = dt.datetime(2024, 5, 8, 17, 45)
EXPORT = Path("data") / "nlu" / "reviewed.yml"
NEW_INTENTS = Path("review") / "new_intents.yml"
ESCALATION = Path("data") / "escalation" / "reviewed.yml"


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's domain, config and training data: what an export may write to."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    (root / EXPORT).unlink(missing_ok=True)
    (root / ESCALATION).unlink(missing_ok=True)
    shutil.rmtree(root / "review", ignore_errors=True)
    return root


def item(
    number: int,
    text: str,
    label: str | None,
    trainer: str | None = "Tess Trainer",
    reviewed_at: dt.datetime | None = REVIEWED,
    entities: tuple[dict, ...] = (),
    status: str = "labelled",
    reason: str = "nlu_fallback",
) -> ReviewItem:
    return ReviewItem(
        id=number,
        conversation_id=f"conv-{number}",
        text=text,
        predicted_intent="greet",
        confidence=0.4,
        entities=entities,
        reason=reason,
        status=status,
        label=label,
        trainer_name=trainer,
        reviewed_at=reviewed_at,
        created_at=REVIEWED,
    )


def examples(path: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(intent, text, [(entity, value)]) of every example, as Rasa's own loader reads the file."""
    data = load_data(str(path))
    return [
        (m.get("intent"), m.get("text"), [(e["entity"], e["value"]) for e in m.get("entities") or []])
        for m in data.training_examples
    ]


def data_files_text(root: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((root / "data").rglob("*.yml")))


def test_labelled_examples_of_known_intents_are_rasa_nlu_data_with_their_intents(project):
    items = [
        item(1, "can you wrap it as a present when you send it", "place_order"),
        item(2, "hiya bot", "greet"),
        item(3, "howdy there little bot", "greet"),
    ]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.path, result.examples, result.per_intent) == (str(EXPORT), 3, {"greet": 2, "place_order": 1})
    assert (result.new_intents, result.new_intents_path, result.duplicates_left_out) == ({}, None, 0)
    assert sorted(examples(project / EXPORT)) == [
        ("greet", "hiya bot", []),
        ("greet", "howdy there little bot", []),
        ("place_order", "can you wrap it as a present when you send it", []),
    ]
    assert not (project / NEW_INTENTS).exists()


def test_personal_data_is_exported_as_annotated_placeholders_that_rasa_reads_as_entities(project):
    text = "is 00123842 on its way, mail jane.doe@example.org or ring 07911 123456"
    order = {"entity": "order_id", "value": "00123842", "start": 3, "end": 11}

    export_labelled(project, [item(1, text, "track_order", entities=(order,))], "Ops Lead", NOW)

    [(intent, plain, entities)] = examples(project / EXPORT)
    assert intent == "track_order"
    assert [entity for entity, _ in entities] == ["order_id", "email"]
    order_value, email_value = (value for _, value in entities)
    assert re.fullmatch(r"\d{8}", order_value) and order_value != "00123842"
    assert re.fullmatch(r"customer\d{1,4}@example\.com", email_value)
    assert re.search(r"ring 07700 900\d{3}$", plain)


def test_no_personal_data_reaches_either_file(project):
    items = [
        item(1, "order #00123842 for jane.doe@example.org please", "track_order"),
        item(2, "call 07911 123456 about 99887766", "gift_wrapping"),
        item(3, "ref 5544332211 and john+shop@mail.example.net", "refund_to_gift_card"),
    ]

    export_labelled(project, items, "Ops Lead", NOW)

    written = (project / EXPORT).read_text() + (project / NEW_INTENTS).read_text()
    for personal in ("00123842", "jane", "doe@", "example.org", "07911", "123456", "99887766", "5544332211", "john"):
        assert personal not in written
    assert "conv-1" not in written


def test_examples_already_in_data_are_left_out_ignoring_case_and_spacing(project):
    assert "- wheres my parcel" in (project / "data" / "nlu" / "orders.yml").read_text()
    items = [item(1, "  Wheres   MY parcel ", "track_order"), item(2, "where has my jumper got to", "track_order")]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.examples, result.duplicates_left_out) == (1, 1)
    assert [text for _, text, _ in examples(project / EXPORT)] == ["where has my jumper got to"]


def test_an_exported_example_moved_into_data_with_its_annotation_is_left_out_next_time(project):
    items = [item(1, "is 00123842 on its way", "track_order")]
    export_labelled(project, items, "Ops Lead", NOW)
    [line] = [line for line in (project / EXPORT).read_text().splitlines() if line.startswith("    - ")]
    moved = line.strip().upper().replace(" ", "  ")  # as the README says: moved to another file, then edited
    (project / "data" / "nlu" / "moved.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: track_order\n  examples: |\n    {moved}\n'
    )

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.examples, result.duplicates_left_out) == (0, 1)
    assert examples(project / EXPORT) == []


def test_a_message_labelled_twice_is_written_once(project):
    items = [
        item(1, "Is order 00123842 gift wrapped?", "place_order", trainer="Tess Trainer"),
        item(2, "is  order 00123842 GIFT wrapped?", "place_order", trainer="Ravi Reviewer"),
        item(3, "is order 00123842 gift wrapped?", "change_order", trainer="Ravi Reviewer"),
    ]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.examples, result.per_intent, result.duplicates_left_out) == (1, {"place_order": 1}, 2)
    assert [intent for intent, _, _ in examples(project / EXPORT)] == ["place_order"]


def test_items_without_a_label_are_not_exported(project):
    items = [item(1, "blorp", None, status="open"), item(2, "fizzle", None, status="dismissed")]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.examples, result.duplicates_left_out) == (0, 0)
    assert examples(project / EXPORT) == []


def test_intents_the_domain_does_not_know_go_to_review_new_intents_only(project):
    items = [
        item(1, "can you gift wrap it", "gift_wrapping"),
        item(2, "do you do present wrapping", "gift_wrapping"),
        item(3, "hiya bot", "greet"),
    ]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.new_intents, result.new_intents_path) == ({"gift_wrapping": 2}, str(NEW_INTENTS))
    assert result.per_intent == {"greet": 1} and result.examples == 1
    assert sorted(examples(project / NEW_INTENTS)) == [
        ("gift_wrapping", "can you gift wrap it", []),
        ("gift_wrapping", "do you do present wrapping", []),
    ]
    assert "gift_wrapping" not in data_files_text(project)
    assert 'Follow README\'s "Teach the bot something new"' in (project / NEW_INTENTS).read_text()


def test_exporting_twice_gives_the_same_file(project):
    items = [item(1, "hiya bot", "greet"), item(2, "is 00123842 gift wrapped", "place_order")]

    export_labelled(project, items, "Ops Lead", NOW)
    first = (project / EXPORT).read_text()
    again = export_labelled(project, items, "Ops Lead", NOW)

    assert (project / EXPORT).read_text() == first
    assert (again.examples, again.duplicates_left_out) == (2, 0)


def test_a_later_export_rewrites_the_file_rather_than_growing_it(project):
    items = [item(1, "hiya bot", "greet"), item(2, "is 00123842 gift wrapped", "place_order")]
    export_labelled(project, items, "Ops Lead", NOW)
    first = examples(project / EXPORT)

    export_labelled(project, [*items, item(3, "yo yo", "greet")], "Ops Lead", NOW + dt.timedelta(days=1))

    assert sorted(examples(project / EXPORT)) == sorted([*first, ("greet", "yo yo", [])])


def test_zero_labelled_items_write_a_valid_empty_file(project):
    result = export_labelled(project, [], "Ops Lead", NOW)

    assert (result.examples, result.per_intent, result.new_intents_path) == (0, {}, None)
    assert "nlu: []" in (project / EXPORT).read_text()
    assert examples(project / EXPORT) == []
    assert not (project / NEW_INTENTS).exists()


def test_an_export_with_nothing_left_empties_an_earlier_export(project):
    export_labelled(project, [item(1, "hiya bot", "greet")], "Ops Lead", NOW)

    export_labelled(project, [], "Ops Lead", NOW)

    assert examples(project / EXPORT) == []


def test_the_header_says_who_exported_and_when(project):
    export_labelled(project, [item(1, "hiya bot", "greet")], "Ops Lead", NOW)

    header = (project / EXPORT).read_text().splitlines()[:4]
    assert all(line.startswith("# ") for line in header)
    assert "# Exported by Ops Lead on 2024-05-08 17:45 UTC." in header[1]


def test_each_intent_says_which_trainers_labelled_it_and_on_which_days(project):
    later = REVIEWED + dt.timedelta(days=1)
    items = [
        item(1, "hiya bot", "greet", trainer="Tess Trainer", reviewed_at=later),
        item(2, "howdy there little bot", "greet", trainer="Ravi Reviewer", reviewed_at=REVIEWED),
        item(3, "yo yo", "greet", trainer="Tess Trainer", reviewed_at=later),
        item(4, "can you wrap it", "place_order", trainer=None, reviewed_at=None),
    ]

    export_labelled(project, items, "Ops Lead", NOW)

    text = (project / EXPORT).read_text()
    assert "- intent: greet\n  # labelled by Ravi Reviewer on 2024-05-06, Tess Trainer on 2024-05-07 (2)\n" in text
    assert "- intent: place_order\n  # labelled by a trainer on 2024-05-08\n" in text


def test_line_breaks_and_hashes_in_names_cannot_break_the_file(project):
    export_labelled(project, [item(1, "hiya bot", "greet", trainer="Eve\n- intent: evil #")], "Mallory\r\nnlu:", NOW)

    assert examples(project / EXPORT) == [("greet", "hiya bot", [])]
    assert "# Exported by Mallory nlu: on" in (project / EXPORT).read_text()


def test_hostile_messages_become_one_example_each_with_only_the_intended_entities(project):
    items = [
        item(1, "[x](y) hello\n- intent: greet\n  examples: |\n    - injected", "greet"),
        item(2, "<b>hi</b> '; DROP TABLE hub_review_items; -- 😀 [London](city)", "greet"),
        item(3, 'a "quoted" \\ line: with # hash & *anchor !tag % {json: 1}', "greet"),
    ]

    export_labelled(project, items, "Ops Lead", NOW)

    found = examples(project / EXPORT)
    assert len(found) == 3 and all(entities == [] for _, _, entities in found)
    assert {intent for intent, _, _ in found} == {"greet"}


def test_the_result_is_json(project):
    result = export_labelled(project, [item(1, "hiya bot", "greet")], "Ops Lead", NOW)

    assert result.to_json() == {
        "path": "data/nlu/reviewed.yml",
        "examples": 1,
        "per_intent": {"greet": 1},
        "new_intents": {},
        "new_intents_path": None,
        "duplicates_left_out": 0,
        "escalation_path": None,
        "per_escalation_label": {},
    }


def test_a_control_character_in_a_message_does_not_make_the_file_unreadable(project):
    export_labelled(project, [item(1, "hello\x07 there, robot friend", "greet")], "Ops Lead", NOW)

    assert examples(project / EXPORT) == [("greet", "hello there, robot friend", [])]


def test_a_unicode_line_separator_in_a_trainers_name_does_not_break_the_file(project):
    export_labelled(project, [item(1, "hiya bot", "greet", trainer="Eve\u2028Adams")], "Ops Lead", NOW)

    assert examples(project / EXPORT) == [("greet", "hiya bot", [])]  # YamlSyntaxException


def test_a_new_intent_relabelled_to_a_known_one_leaves_review_new_intents(project):
    export_labelled(project, [item(1, "can you gift wrap it", "gift_wrapping")], "Ops Lead", NOW)

    result = export_labelled(project, [item(1, "can you gift wrap it", "place_order")], "Ops Lead", NOW)

    assert result.new_intents_path is None
    assert [intent for intent, _, _ in examples(project / EXPORT)] == ["place_order"]
    stale = project / NEW_INTENTS
    assert not stale.exists() or examples(stale) == []  # still offers "can you gift wrap it" as gift_wrapping


@pytest.mark.model
@pytest.mark.trains(1)
def test_exported_data_passes_rasas_validation_and_trains(project, tmp_path):
    """The one slow test: Rasa's validator accepts data/ with the export in it, and `rasa train nlu` trains on it."""
    items = [
        item(1, "can you wrap it as a present", "place_order"),
        item(2, "is order #00123842 gift wrapped, ask jane.doe@example.org", "track_order"),
        item(3, "refund 99887766 onto my card", "get_refund"),
        item(4, "can you gift wrap it", "gift_wrapping"),
    ]
    result = export_labelled(project, items, "Ops Lead", NOW)
    assert result.examples == 3

    config = project / "export_check_config.yml"
    config.write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: export-check\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: CountVectorsFeaturizer\n  - name: DIETClassifier\n"
        "    epochs: 2\n    number_of_transformer_layers: 0\n    hidden_layers_sizes: {text: []}\n"
        "    embedding_dimension: 8\n    batch_size: [4096, 4096]\n    evaluate_on_number_of_examples: 0\n"
        "    checkpoint_model: false\n    run_eagerly: true\npolicies: []\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RASA_CACHE_DIRECTORY": str(tmp_path / "rasa-cache"),
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    log = tmp_path / "rasa-train.log"
    training = subprocess.Popen(
        [str(VENV_BIN / "rasa"), "train", "nlu", "--config", str(config), "--nlu", str(project / "data" / "nlu"),
         "--out", str(project / "models"), "--fixed-model-name", "exported"],
        cwd=project, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        importer = TrainingDataImporter.load_from_config(
            str(project / "config.yml"), str(project / "domain.yml"), [str(project / "data")]
        )
        validator = Validator.from_importer(importer)
        assert validator.verify_intents(ignore_warnings=False)
        assert validator.verify_example_repetition_in_intents(ignore_warnings=False)
        training.wait(timeout=300)
    finally:
        if training.poll() is None:
            training.kill()
            training.wait()

    assert training.returncode == 0, log.read_text()[-5000:]
    assert (project / "models" / "exported.tar.gz").stat().st_size > 0


def verdict(number: int, text: str, label: str | None, **fields) -> ReviewItem:
    """An escalation item (a missed or nearly missed handoff) with a trainer's verdict."""
    return item(number, text, label, **{"reason": "missed_escalation", **fields})


def person_flags(path: Path) -> list[tuple[str, bool]]:
    """(text, person) of every example, as the escalation judgement's own loader reads the file."""
    alone = path.parent.parent / "written-alone"
    shutil.rmtree(alone, ignore_errors=True)
    alone.mkdir()
    shutil.copy(path, alone / path.name)
    return [(example.text, example.person) for example in load_examples(alone)]


def test_escalation_verdicts_are_examples_the_judgement_loads_with_their_person_flags(project):
    items = [
        verdict(1, "this is the third time I ask, where is it", "needs_person"),
        item(2, "hiya bot", "greet"),
        verdict(3, "meh, ok, whatever", "fine", reason="near_threshold"),
        verdict(4, "I am so worried about my mum's present", "needs_person"),
        verdict(5, "still open", None, status="open"),
    ]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.escalation_path, result.per_escalation_label) == (str(ESCALATION), {"needs_person": 2, "fine": 1})
    assert (result.examples, result.per_intent) == (1, {"greet": 1})
    assert person_flags(project / ESCALATION) == [
        ("I am so worried about my mum's present", True),
        ("this is the third time I ask, where is it", True),
        ("meh, ok, whatever", False),
    ]
    assert [group.keys() for group in yaml.safe_load((project / ESCALATION).read_text())["groups"]] == [
        {"person", "examples"},
        {"person", "examples"},
    ]
    nlu = (project / EXPORT).read_text()
    assert "hiya bot" in nlu and "third time" not in nlu and "needs_person" not in nlu
    assert "hiya bot" not in (project / ESCALATION).read_text()


def test_escalation_examples_have_the_nlu_exports_placeholders_without_the_annotation(project):
    text = "furious!! is 00123842 lost? mail jane.doe@example.org or ring 07911 123456"
    order = {"entity": "order_id", "value": "00123842", "start": 13, "end": 21}

    export_labelled(project, [item(1, text, "track_order", entities=(order,))], "Ops Lead", NOW)
    [(_, as_intent, _)] = examples(project / EXPORT)
    export_labelled(project, [verdict(1, text, "needs_person", entities=(order,))], "Ops Lead", NOW)

    [(example, person)] = person_flags(project / ESCALATION)
    assert (example, person) == (as_intent, True)
    assert re.fullmatch(r"furious!! is \d{8} lost\? mail customer\d{1,4}@example\.com or ring 07700 900\d{3}", example)
    written = (project / ESCALATION).read_text()
    for personal in ("00123842", "jane", "example.org", "07911", "123456", "conv-1"):
        assert personal not in written


def test_escalation_verdicts_are_written_once_each_and_the_latest_verdict_wins(project):
    later = REVIEWED + dt.timedelta(hours=2)
    items = [
        verdict(1, "Where is order 00123842?!", "needs_person", reviewed_at=later),
        verdict(2, "where is  order 00123842?!", "fine"),
        verdict(3, "ugh, fine", "fine"),
        verdict(4, "UGH, FINE", "fine"),
    ]

    result = export_labelled(project, items, "Ops Lead", NOW)

    assert (result.per_escalation_label, result.duplicates_left_out) == ({"needs_person": 1, "fine": 1}, 2)
    (order, order_person), (ugh, ugh_person) = person_flags(project / ESCALATION)
    assert (order_person, ugh, ugh_person) == (True, "UGH, FINE", False)
    assert order.startswith("Where is order ") and "00123842" not in order


def test_examples_already_in_data_escalation_are_left_out(project):
    (project / "data" / "escalation" / "ours.yml").write_text(
        'groups:\n  - {emotion: anger, strength: strong, examples: ["You lot are USELESS"]}\n'
    )

    result = export_labelled(
        project, [verdict(1, "you lot are  useless", "needs_person"), verdict(2, "hmm", "fine")], "Ops Lead", NOW
    )

    assert (result.per_escalation_label, result.duplicates_left_out) == ({"fine": 1}, 1)
    assert person_flags(project / ESCALATION) == [("hmm", False)]


def test_the_escalation_file_says_the_export_wrote_it_and_does_not_change_when_the_verdicts_do_not(project):
    items = [verdict(1, "this is a joke", "needs_person"), verdict(2, "ok then", "fine")]

    export_labelled(project, items, "Ops Lead", NOW)
    first = (project / ESCALATION).read_text()
    export_labelled(project, list(reversed(items)), "Someone Else", NOW + dt.timedelta(days=3))

    assert (project / ESCALATION).read_text() == first
    assert first.startswith("# Written by the review export")
    assert 'person: true is "needs a person"' in first


def test_no_verdict_left_removes_an_earlier_escalation_file(project):
    export_labelled(project, [verdict(1, "this is a joke", "needs_person")], "Ops Lead", NOW)

    result = export_labelled(project, [verdict(1, "this is a joke", None, status="dismissed")], "Ops Lead", NOW)

    assert result.escalation_path is None and result.per_escalation_label == {}
    assert not (project / ESCALATION).exists()
