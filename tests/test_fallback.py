"""A second miss in a row: the bot admits it and offers a person."""

from __future__ import annotations

from actions.fallback import ActionFallback
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_the_second_miss_offers_a_person_for_not_understood():
    messages, events = run_action(ActionFallback(), make_tracker("what's the weather", "nlu_fallback"))
    assert "still not understanding" in texts(messages)
    assert slot_events(events) == {"handoff_reason": "not_understood", "wants_human": None}
    assert events[-1] == {"event": "active_loop", "name": "human_offer_form", "timestamp": None}
