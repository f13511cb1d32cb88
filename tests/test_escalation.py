"""The escalation rules: who gets a person, why, how urgently, and who just gets an acknowledgement."""

from __future__ import annotations

import dataclasses

import pytest

from bot.domain.emotion import load_policy, scorer_for
from bot.domain.escalation import EscalationRules, Turn, rules_for, turns_from_events


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


def test_a_polite_no_does_not_count_as_negative_but_an_unsure_one_does():
    first = turn("ugh, still nothing", "track_order")
    polite = dataclasses.replace(turn("no, that's not great", "deny"), confidence=0.9)
    unsure = dataclasses.replace(polite, confidence=0.27)
    assert not assess(first, polite).escalate
    assert (assess(first, unsure).reason, assess(first, unsure).priority) == ("emotional", "high")


@pytest.mark.parametrize(
    ("text", "topic", "priority"),
    [
        ("I will take legal action if this isn't fixed", "legal", "high"),
        ("there's an unauthorised charge from you on my card", "fraud", "urgent"),
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


def judged(text, intent=None, topics=None, person=None, strong=None, level=None):
    """A turn as the trained NLU marks it: the learned topic and person probabilities in its parse data."""
    emotion = scorer_for().score(text).to_json()
    if strong is not None:
        emotion |= {"strength": {"none": 1 - strong, "mild": 0.0, "strong": strong}, "level": level or "none"}
    judgement = {"topics": topics or {}, "person": person if person is not None else 0.0}
    return Turn(text=text, intent=intent, emotion=emotion, answered_by=("utter_answer",), judgement=judgement)


def test_a_learned_topic_in_calm_words_goes_to_a_person_with_its_priority_and_score():
    result = assess(judged("there's a 49.99 payment I don't recognise", topics={"fraud": 0.91, "legal": 0.2}))
    assert (result.escalate, result.reason, result.priority) == (True, "complex", "urgent")
    assert "topic:fraud" in result.signals and "topic:legal" not in result.signals
    assert result.scores["topic:fraud"] == pytest.approx(0.91)
    calm = assess(judged("I'd like a VAT invoice for my company", topics={"business": 0.8}))
    assert (calm.reason, calm.priority) == ("complex", "high")


def test_a_topic_under_its_threshold_does_nothing():
    result = assess(judged("how do I reset my password", "recover_password", topics={"account_takeover": 0.3}))
    assert (result.escalate, result.acknowledge) == (False, False)


def test_a_topic_the_trainer_set_to_acknowledge_apologises_and_answers():
    rules = EscalationRules(
        load_policy()["escalation"],
        load_policy()["judgement"]
        | {"topics": {"customs": {"threshold": 0.5, "priority": "high", "action": "acknowledge"}}},
    )
    result = rules.assess([judged("customs want 30 euros for my parcel", topics={"customs": 0.9})])
    assert (result.escalate, result.acknowledge) == (False, True)
    assert "topic:customs" in result.signals


def test_the_learned_strength_is_shown_with_the_strong_emotion_signal():
    result = assess(judged("unbelievable. just unbelievable.", strong=0.83, level="strong"))
    assert (result.reason, result.priority) == ("emotional", "urgent")
    signal = next(s for s in result.signals if s.startswith("emotion:strong"))
    assert result.scores[signal] == pytest.approx(0.83)


def test_the_overall_judgement_that_a_person_is_needed_hands_over_with_high_priority():
    result = assess(judged("this is the fourth parcel to go missing", person=0.77))
    assert (result.escalate, result.priority) == (True, "high")
    assert result.scores["needs_person"] == pytest.approx(0.77)
    assert assess(judged("where is my parcel", person=0.2)).escalate is False


def test_scores_just_under_a_threshold_are_near_misses_for_the_review_inbox():
    rules = rules_for()
    just_under = rules.topics["fraud"].threshold - 0.05
    person = rules.needs_person - 0.1
    near = rules.near_misses(judged("hm", topics={"fraud": just_under, "legal": 0.1}, person=person, strong=0.2))
    assert near == {"topic:fraud": pytest.approx(just_under), "needs_person": pytest.approx(person)}
    assert rules.near_misses(judged("hm", topics={"fraud": 0.9})) == {}


def test_strong_feelings_about_something_else_get_an_apology_not_an_agent():
    rant = judged("the referee was a joke tonight, absolutely furious", strong=0.9, level="strong", person=0.9)
    rant = Turn(rant.text, None, rant.emotion, ("utter_answer",), judgement=dict(rant.judgement, shop=0.1))
    result = assess(rant)
    assert (result.escalate, result.acknowledge) == (False, True)
    assert "not_about_the_shop" in result.signals and "needs_person" not in result.signals
    shop = judged("you lost my parcel again, absolutely furious", strong=0.9, level="strong")
    assert assess(Turn(shop.text, None, shop.emotion, judgement=dict(shop.judgement, shop=0.9))).escalate is True
