"""The escalation rules: who gets a person, why, how urgently, and who just gets an acknowledgement."""

from __future__ import annotations

import pytest

from bot.emotion import scorer_for
from bot.escalation import Turn, rules_for, turns_from_events


def turn(text, intent=None, answered_by=("utter_answer",)):
    return Turn(text=text, intent=intent, emotion=scorer_for().score(text).to_json(), answered_by=answered_by)


def assess(*turns):
    return rules_for().assess(list(turns))


def test_strong_anger_is_an_urgent_emotional_handoff():
    result = assess(turn("YOU ARE USELESS, I AM SO ANGRY!!! never ordering again"))
    assert (result.escalate, result.reason, result.priority) == (True, "emotional", "urgent")
    assert any(s.startswith("emotion:strong") for s in result.signals)


def test_mild_negativity_is_acknowledged_not_escalated():
    result = assess(turn("ugh this is annoying, where is my order", "track_order"))
    assert (result.escalate, result.acknowledge) == (False, True)


def test_negative_twice_in_a_row_hands_over():
    result = assess(turn("ugh, still nothing", "track_order"), turn("honestly this is annoying", "track_order"))
    assert (result.reason, result.priority) == ("emotional", "high")
    assert "negative_turns:2" in result.signals


@pytest.mark.parametrize(
    ("text", "topic", "priority"),
    [
        ("I will take legal action if this isn't fixed", "legal", "high"),
        ("there's an unauthorised charge from you on my card", "fraud", "high"),
        ("the charger caught fire in my kitchen", "safety", "urgent"),
        ("my husband passed away, please close his account", "bereavement", "high"),
        ("under GDPR delete my data now", "data", "high"),
    ],
)
def test_high_stakes_topics_go_to_a_person(text, topic, priority):
    result = assess(turn(text))
    assert (result.reason, result.priority) == ("complex", priority)
    assert f"high_stakes:{topic}" in result.signals


def test_several_problems_at_once_go_to_a_person():
    result = assess(turn("it came late, the lamp was broken and I was charged twice"))
    assert result.reason == "complex" and any(s.startswith("several_problems") for s in result.signals)


def test_the_same_need_after_an_answer_goes_to_a_person_but_not_a_form_continuing():
    answered = turn("how long does delivery take", "delivery_period", ("utter_delivery_period",))
    assert assess(answered, turn("how long does delivery take?", "delivery_period")).reason == "complex"
    asked = turn("cancel my order", "cancel_order", ("cancel_order_form", "action_ask_order_id"))
    assert assess(asked, turn("cancel order 00000108", "cancel_order")).escalate is False
    fee = turn("is there a cancellation fee", "check_cancellation_fee", ("action_explain_cancellation_fee",))
    follow_up = Turn("and for 00012345?", "check_cancellation_fee", None, entities=("00012345",))
    assert assess(fee, follow_up).escalate is False
    tracked = turn("where is 00123842", "track_order", ("action_track_order",))
    assert assess(tracked, turn("and where is 04587345", "track_order")).escalate is False


def test_a_polite_no_thanks_is_not_negativity():
    result = assess(turn("ugh, where is it", "track_order"), turn("no thanks", "deny"))
    assert (result.escalate, result.acknowledge) == (False, False)


def test_asking_for_a_person_is_not_acknowledged_twice():
    result = assess(turn("ugh, get me a human", "contact_human_agent"))
    assert result.acknowledge is False


def test_turns_are_read_from_tracker_events():
    events = [
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "action", "name": "utter_greet"},
        {"event": "action", "name": "action_listen"},
        {"event": "session_started"},
        {
            "event": "user",
            "text": "where is my order",
            "parse_data": {"intent": {"name": "track_order"}, "emotion": {"level": "mild"}},
        },
        {"event": "action", "name": "track_order_form"},
    ]
    (only,) = turns_from_events(events)
    assert (only.intent, only.level, only.answered_by, only.answered) == (
        "track_order",
        "mild",
        ("track_order_form",),
        False,
    )
