"""Offering a person opens a yes/no question and forgets any earlier answer."""

from __future__ import annotations

from actions.human_offer import ActionAskWantsHuman, offer_person
from tests.trackers import make_tracker, run_action, texts


def test_offering_clears_the_last_answer_and_opens_the_question():
    events = offer_person("bot_error")
    assert {"event": "slot", "timestamp": None, "name": "wants_human", "value": None} in events
    assert {"event": "slot", "timestamp": None, "name": "handoff_reason", "value": "bot_error"} in events
    assert events[-1]["name"] == "human_offer_form"


def test_the_question_has_yes_and_no_buttons():
    messages, _ = run_action(ActionAskWantsHuman(), make_tracker())
    assert "bring in a person" in texts(messages)
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
