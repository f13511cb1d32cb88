"""The escalation examples load with their labels, and a broken file says where it is broken."""

from __future__ import annotations

import pytest

from bot.rasa.escalation_examples import EXAMPLES_DIR, TOPICS, ExamplesError, fingerprint, load_examples


def write(folder, text, name="examples.yml"):
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_project_examples_cover_every_feeling_strength_and_topic():
    examples = load_examples()
    assert len(examples) > 3000
    assert {e.emotion for e in examples} == {"none", "anger", "frustration", "distress"}
    assert {e.strength for e in examples} == {"none", "mild", "strong"}
    for topic in TOPICS:
        assert sum(topic in e.topics for e in examples) >= 50, topic
    assert len({e.text.lower() for e in examples}) > 0.98 * len(examples)


def test_strong_feelings_and_topics_need_a_person_mild_ones_do_not(tmp_path):
    write(
        tmp_path,
        """
groups:
  - {emotion: anger, strength: strong, examples: ["furious"]}
  - {emotion: frustration, strength: mild, examples: ["a bit annoying, where is it"]}
  - {topics: [fraud], examples: ["a charge I don't know"]}
  - {person: false, examples: ["labelled fine by a trainer"]}
""",
    )
    furious, mild, fraud, fine = load_examples(tmp_path)
    assert (furious.person, mild.person, fraud.person, fine.person) == (True, False, True, False)
    assert fraud.topics == ("fraud",) and fraud.emotion == "none"
    assert fine.labelled_feeling is False and furious.labelled_feeling is True


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("groups: [{topics: [shipping], examples: [x]}]", "unknown topic 'shipping'"),
        ("groups: [{emotion: joy, examples: [x]}]", "unknown emotion 'joy'"),
        ("groups: [{strength: huge, examples: [x]}]", "unknown strength 'huge'"),
        ("groups: [{emotion: anger, examples: ['  ']}]", "non-empty string"),
        ("groups: [{emotion: anger}]", "needs a list of 'examples'"),
        ("groups: [{examples: [x]}]", "say 'emotion'"),
        ("examples: [x]", "expected a list under 'groups'"),
        ("groups: [unclosed", "not valid YAML"),
    ],
)
def test_a_broken_file_is_refused_with_the_place_and_the_problem(tmp_path, text, complaint):
    with pytest.raises(ExamplesError, match=r"examples\.yml") as error:
        load_examples(write(tmp_path, text))
    assert complaint in str(error.value)


def test_no_examples_at_all_is_an_error(tmp_path):
    with pytest.raises(ExamplesError, match="no escalation examples"):
        load_examples(tmp_path)


def test_the_fingerprint_changes_with_any_example_file(tmp_path):
    write(tmp_path, "groups: [{emotion: anger, strength: strong, examples: [a]}]")
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == before
    write(tmp_path, "groups: [{person: true, examples: [b]}]", "reviewed.yml")
    assert fingerprint(tmp_path) != before
    assert fingerprint(EXAMPLES_DIR) != before


def test_strong_feelings_about_life_outside_the_shop_need_no_person(tmp_path):
    write(tmp_path, "groups: [{emotion: anger, strength: strong, shop: false, examples: ['that referee, honestly']}]")
    (rant,) = load_examples(tmp_path)
    assert (rant.shop, rant.person, rant.strength) == (False, False, "strong")
