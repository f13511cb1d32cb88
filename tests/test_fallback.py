"""A second miss in a row: the bot admits it and offers a person."""

from __future__ import annotations

from actions.fallback import ActionCoreFallback, ActionFallback
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_the_second_miss_offers_a_person_for_not_understood():
    messages, events = run_action(ActionFallback(), make_tracker("what's the weather", "nlu_fallback"))
    assert "still not understanding" in texts(messages)
    assert slot_events(events) == {"handoff_reason": "not_understood", "wants_human": None}
    assert events[-1] == {"event": "active_loop", "name": "human_offer_form", "timestamp": None}


def test_when_no_policy_is_sure_the_bot_says_what_it_can_do_and_takes_the_message_back():
    """Without the revert the unsure policies predict the fallback again, ten times, until Rasa's circuit breaker
    ends the turn; the next turn is then silent."""
    messages, events = run_action(ActionCoreFallback(), make_tracker("track my package", "track_order"))
    assert [m.get("response") for m in messages] == ["utter_what_i_can_do"]
    assert [e["event"] for e in events] == ["rewind"]
