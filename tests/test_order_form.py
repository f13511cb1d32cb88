"""The order forms' shared validation: order numbers, the customer's email, and when a form gives up."""

from __future__ import annotations

from actions.cancel_order import ValidateCancelOrderForm
from actions.order_form import ActionAskEmail, ActionAskOrderId
from actions.shipping_address import ValidateAddressForm
from actions.track_order import ValidateTrackOrderForm
from bot.domain.tokens import sign_customer_id
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_a_typed_order_number_is_stored_in_its_canonical_form(shop):
    tracker = make_tracker("#00108", "inform", active_loop="track_order_form", candidates={"order_id": "#00108"})
    messages, events = run_action(ValidateTrackOrderForm(), tracker)
    assert slot_events(events)["order_id"] == "00000108"
    assert messages == []


def test_a_bare_number_counts_even_when_the_nlu_saw_no_entity(shop):
    tracker = make_tracker(
        "it is 4587345 I think", "inform", slots={"requested_slot": "order_id"}, active_loop="track_order_form"
    )
    _, events = run_action(ValidateTrackOrderForm(), tracker)
    assert slot_events(events)["order_id"] == "04587345"


def test_an_unknown_number_is_said_plainly_and_asked_again(shop):
    tracker = make_tracker("99999998", "inform", active_loop="track_order_form", candidates={"order_id": "99999998"})
    messages, events = run_action(ValidateTrackOrderForm(), tracker)
    slots = slot_events(events)
    assert slots["order_id"] is None
    assert slots["order_lookup_failures"] == 1
    assert slots.get("requested_slot", "order_id") == "order_id"
    assert "couldn't find an order with the number 99999998" in texts(messages)


def test_a_second_unknown_number_ends_the_form_so_a_person_can_be_offered(shop):
    tracker = make_tracker(
        "99999997",
        "inform",
        slots={"order_lookup_failures": 1},
        active_loop="track_order_form",
        candidates={"order_id": "99999997"},
    )
    _, events = run_action(ValidateTrackOrderForm(), tracker)
    slots = slot_events(events)
    assert slots["order_lookup_failures"] == 2
    assert slots["requested_slot"] is None


def test_sql_in_an_order_number_is_rejected_as_not_a_number(shop):
    hostile = "1; DROP TABLE orders; --"
    tracker = make_tracker(hostile, "inform", active_loop="track_order_form", candidates={"order_id": hostile})
    messages, events = run_action(ValidateTrackOrderForm(), tracker)
    assert slot_events(events)["order_id"] is None
    assert "doesn't look like an order number" in texts(messages)


def test_the_email_on_the_order_verifies_the_customer(shop):
    tracker = make_tracker(
        "anna.freeman@example.com",
        "inform",
        slots={"order_id": "00000108", "requested_slot": "email"},
        active_loop="cancel_order_form",
        candidates={"email": "Anna.Freeman@example.com"},
    )
    _, events = run_action(ValidateCancelOrderForm(), tracker)
    slots = slot_events(events)
    assert slots["verified_customer_id"] == "C0001"
    assert slots["requested_slot"] == "cancel_confirmed"


def test_a_wrong_email_reveals_nothing_and_is_asked_again(shop):
    tracker = make_tracker(
        "someone@else.org",
        "inform",
        slots={"order_id": "00000108", "requested_slot": "email"},
        active_loop="cancel_order_form",
        candidates={"email": "someone@else.org"},
    )
    messages, events = run_action(ValidateCancelOrderForm(), tracker)
    slots = slot_events(events)
    assert slots["email"] is None
    assert "verified_customer_id" not in slots
    assert "anna" not in texts(messages).lower()
    assert slots.get("requested_slot", "email") == "email"


def test_a_customer_the_channel_vouches_for_is_not_asked_for_an_email(shop):
    signature = sign_customer_id("C0001", "frontline-dev-channel-secret")
    tracker = make_tracker(
        "cancel 00000108",
        "cancel_order",
        active_loop="cancel_order_form",
        metadata={"customer_id": "C0001", "customer_signature": signature},
        candidates={"order_id": "00000108"},
    )
    _, events = run_action(ValidateCancelOrderForm(), tracker)
    assert slot_events(events)["requested_slot"] == "cancel_confirmed"


def test_a_forged_signature_is_not_trusted(shop):
    tracker = make_tracker(
        "cancel 00000108",
        "cancel_order",
        active_loop="cancel_order_form",
        metadata={"customer_id": "C0001", "customer_signature": "0" * 64},
        candidates={"order_id": "00000108"},
    )
    _, events = run_action(ValidateCancelOrderForm(), tracker)
    assert slot_events(events).get("requested_slot", "email") == "email"


def test_a_shipped_order_ends_the_cancel_form_without_asking_for_an_email(shop):
    tracker = make_tracker(
        "cancel 00123842", "cancel_order", active_loop="cancel_order_form", candidates={"order_id": "00123842"}
    )
    _, events = run_action(ValidateCancelOrderForm(), tracker)
    assert slot_events(events)["requested_slot"] is None


def test_the_questions_say_where_to_find_the_answer():
    messages, _ = run_action(ActionAskOrderId(), make_tracker())
    assert "confirmation email" in texts(messages)
    messages, _ = run_action(ActionAskEmail(), make_tracker())
    assert "email address" in texts(messages)


def test_a_house_number_in_an_address_does_not_replace_the_order(shop):
    history = [{"event": "slot", "name": "order_id", "value": "00000108"}]
    address = "Anna Freeman, 22 Baker Street, London NW1 6XE"
    tracker = make_tracker(
        address,
        "nlu_fallback",
        slots={"requested_slot": "shipping_address", "verified_customer_id": "C0001"},
        history=history,
        active_loop="address_form",
        candidates={"order_id": "22", "shipping_address": address},
    )
    messages, events = run_action(ValidateAddressForm(), tracker)
    slots = slot_events(events)
    assert slots["order_id"] == "00000108"
    assert slots["shipping_address"] == address
    assert messages == []


def wrong_email(conversation: str, email: str = "someone@else.org", failures: int = 0) -> dict:
    """The cancel form's answer to one wrong address for order 00000108, in `conversation`."""
    tracker = make_tracker(
        email,
        "inform",
        slots={"order_id": "00000108", "requested_slot": "email", "email_failures": failures},
        active_loop="cancel_order_form",
        candidates={"email": email},
    )
    tracker.sender_id = conversation
    return slot_events(run_action(ValidateCancelOrderForm(), tracker)[1])


def test_after_three_wrong_addresses_the_conversation_is_not_checked_even_with_the_right_one(shop):
    wrong_email("guesser")
    wrong_email("guesser", failures=1)
    third = wrong_email("guesser")
    assert third["requested_slot"] is None and third["email_failures"] >= 2, "the form ends at once"
    right = wrong_email("guesser", email="anna.freeman@example.com")
    assert "verified_customer_id" not in right and right["requested_slot"] is None


def test_five_wrong_addresses_from_separate_conversations_lock_the_order_for_everyone(shop):
    for n in range(5):
        wrong_email(f"guesser-{n}")
    owner = wrong_email("the-real-owner", email="anna.freeman@example.com")
    assert "verified_customer_id" not in owner and owner["requested_slot"] is None
    tracker = make_tracker(
        "cancel 00000108", "cancel_order", active_loop="cancel_order_form", candidates={"order_id": "00000108"}
    )
    tracker.sender_id = "a-sixth-conversation"
    _, events = run_action(ValidateCancelOrderForm(), tracker)
    assert slot_events(events)["requested_slot"] is None, "a locked order is not asked for an email at all"
