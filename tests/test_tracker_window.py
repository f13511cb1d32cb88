"""A long conversation's tracker is shortened to its recent part, which decides every turn as the whole did."""

from __future__ import annotations

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.tracker_window import CUT_AFTER_TURNS, KEEP_TURNS, Window, shortened, window_of
from tests.rasa_stack import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
ROUTINE = ("ask_payment_methods", "ask_delivery_options", "ask_refund_policy")


def routine_turn(tracker: DialogueStateTracker, n: int) -> None:
    intent = ROUTINE[n % len(ROUTINE)]
    tracker.update(UserUttered(f"question {n}", {"name": intent, "confidence": 0.9}))
    tracker.update(ActionExecuted(f"utter_{intent}"))
    tracker.update(BotUttered(f"answer {n}"))
    tracker.update(ActionExecuted("action_listen"))


def conversation(turns: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("long", DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("where is order 00123842", {"name": "track_order", "confidence": 0.9}))
    tracker.update(SlotSet("order_id", "00123842"))
    tracker.update(SlotSet("verified_customer_id", "c-1"))
    tracker.update(ActionExecuted("action_track_order"))
    tracker.update(ActionExecuted("action_listen"))
    for n in range(turns - 1):
        routine_turn(tracker, n)
    return tracker


def customer_messages(tracker: DialogueStateTracker) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_a_conversation_of_up_to_thirty_messages_is_left_whole():
    assert shortened(conversation(CUT_AFTER_TURNS)) is None


def test_a_long_conversation_keeps_its_recent_messages_and_the_slots_set_long_before():
    whole = conversation(45)
    short = shortened(whole)
    assert short is not None
    assert customer_messages(short) == customer_messages(whole)[-KEEP_TURNS:]
    assert short.get_slot("order_id") == "00123842" and short.get_slot("verified_customer_id") == "c-1"
    assert [e.as_dict() for e in list(short.events)[-8:]] == [e.as_dict() for e in list(whole.events)[-8:]]


def test_the_policies_see_the_same_recent_states_as_in_the_whole_conversation():
    whole = conversation(45)
    short = shortened(whole)
    assert short.past_states(DOMAIN)[-12:] == whole.past_states(DOMAIN)[-12:]
    assert len(short.past_states(DOMAIN)) < len(whole.past_states(DOMAIN)) / 2


def test_the_window_says_which_events_sum_up_and_which_stored_ones_are_left_out():
    whole = conversation(45)
    short = shortened(whole)
    window = window_of(short)
    assert window_of(whole) == Window()
    assert window.summary == 3  # two slots, then action_listen
    assert window.stored(short) == len(whole.events)
    assert list(short.events)[window.summary].text == customer_messages(whole)[-KEEP_TURNS]


def test_a_shortened_tracker_shortened_again_counts_from_the_stored_session():
    whole = conversation(45)
    short = shortened(whole)
    for n in range(100, 112):
        routine_turn(short, n)
        routine_turn(whole, n)
    again = shortened(short)
    assert again is not None
    assert customer_messages(again) == customer_messages(whole)[-KEEP_TURNS:]
    assert window_of(again).stored(again) == len(whole.events)
    assert again.get_slot("order_id") == "00123842"


def a_long_form(tracker: DialogueStateTracker, answers: int) -> None:
    """A cancellation form that asks and asks: `answers` customer messages while it is active."""
    tracker.update(UserUttered("cancel it", {"name": "cancel_order", "confidence": 0.9}))
    tracker.update(ActionExecuted("cancel_order_form"))
    tracker.update(ActiveLoop("cancel_order_form"))
    tracker.update(ActionExecuted("action_listen"))
    for n in range(answers):
        tracker.update(UserUttered(f"hmm {n}", {"name": "inform", "confidence": 0.9}))
        tracker.update(ActionExecuted("cancel_order_form"))
        tracker.update(ActionExecuted("action_listen"))


def test_it_never_starts_inside_a_form():
    tracker = conversation(20)
    a_long_form(tracker, KEEP_TURNS + 2)
    tracker.update(ActiveLoop(None))
    short = shortened(tracker)
    assert short is not None
    assert customer_messages(short)[0] == "cancel it", "the form's start, the latest calm point far enough back"
    assert short.active_loop_name is None


def test_with_no_calm_point_after_the_first_message_it_is_left_whole():
    tracker = DialogueStateTracker("busy", DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    a_long_form(tracker, CUT_AFTER_TURNS + 5)
    assert shortened(tracker) is None
