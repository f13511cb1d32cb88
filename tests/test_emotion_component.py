"""The NLU component puts the emotion into every parse, and Rasa shows it in /model/parse."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.emotion import scorer_for
from bot.emotion_component import EmotionClassifier


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
