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
