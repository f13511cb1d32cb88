"""The NLU component puts the emotion into every parse, and Rasa shows it in /model/parse."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.domain.emotion import POLICY_FILE, scorer_for
from bot.rasa.emotion_component import EmotionClassifier


def test_every_message_gets_an_emotion_in_its_output():
    component = EmotionClassifier(scorer_for())
    calm, angry = Message(data={"text": "where is my order"}), Message(data={"text": "THIS IS RIDICULOUS!!! USELESS"})
    component.process([calm, angry])
    assert calm.get("emotion")["level"] == "none"
    assert angry.get("emotion")["level"] == "strong"
    assert "emotion" in angry.as_dict(only_output_properties=True)


def test_the_trained_model_shows_the_emotion_in_model_parse(assistant):
    parsed = assistant.parse("I am so fed up, this is the third time I ask!!")
    assert parsed["emotion"]["label"] in {"anger", "frustration"}
    assert {"asked_again", "fury", "exclamations"} <= set(parsed["emotion"]["cues"])


def test_rasa_retrains_the_judgement_when_its_examples_or_the_lexicon_change(tmp_path):
    import shutil

    from bot.rasa.escalation_examples import EXAMPLES_DIR

    examples, policy = tmp_path / "examples", tmp_path / "escalation.yml"
    shutil.copytree(EXAMPLES_DIR, examples)
    shutil.copy(POLICY_FILE, policy)
    config = {"examples": str(examples), "policy_file": str(policy)}
    before = EmotionClassifier.fingerprint_addon(config)
    policy.write_text(policy.read_text().replace("needs_person: 0.6", "needs_person: 0.7"))
    assert EmotionClassifier.fingerprint_addon(config) == before, "a threshold is read at load time"
    policy.write_text(policy.read_text().replace("strong_threshold: 0.9", "strong_threshold: 0.8"))
    changed = EmotionClassifier.fingerprint_addon(config)
    assert changed != before
    (examples / "reviewed.yml").write_text("groups: [{person: true, examples: [a new verdict]}]")
    assert EmotionClassifier.fingerprint_addon(config) != changed
