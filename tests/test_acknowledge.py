"""The acknowledgement says something kind for the feeling, then steps out of the way."""

from __future__ import annotations

from actions.acknowledge import ActionAcknowledgeFeelings
from tests.trackers import make_tracker, run_action, texts


def test_frustration_is_acknowledged_and_the_action_reverts_itself():
    tracker = make_tracker("ugh where is it", "track_order")
    tracker.latest_message["emotion"] = {"level": "mild", "label": "frustration"}
    messages, events = run_action(ActionAcknowledgeFeelings(), tracker)
    assert "taking so long" in texts(messages) and "talk to a person" in texts(messages)
    assert events == [{"event": "undo", "timestamp": None}]


def test_without_a_label_a_plain_apology_is_given():
    messages, _ = run_action(ActionAcknowledgeFeelings(), make_tracker("hmm", "track_order"))
    assert texts(messages).startswith("I'm sorry about the trouble")


def test_a_second_apology_in_the_same_conversation_is_worded_differently_and_a_person_is_one_tap_away():
    first = make_tracker("ugh where is it", "track_order")
    first.latest_message["emotion"] = {"level": "mild", "label": "anger"}
    said_once, _ = run_action(ActionAcknowledgeFeelings(), first)
    earlier = [{"event": "action", "name": "action_acknowledge_feelings"}, {"event": "undo"}]
    second = make_tracker("and still nothing", "track_order", history=earlier)
    second.latest_message["emotion"] = {"level": "mild", "label": "anger"}
    said_twice, _ = run_action(ActionAcknowledgeFeelings(), second)
    assert texts(said_once) != texts(said_twice)
    assert all(m["buttons"] == [{"title": "Talk to a person", "payload": "/contact_human_agent"}] for m in said_once)
