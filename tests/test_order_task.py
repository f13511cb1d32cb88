"""What every order task shares: clearing its slots, and what a stranger may and may not do."""

from __future__ import annotations

import asyncio

from actions.cancel_order import ActionCancelOrder
from actions.order_task import TASK_SLOTS, reset_task_slots
from actions.orders.verification_attempts import PER_ORDER, verification_attempts
from actions.refunds import ActionRequestRefund
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_resetting_clears_every_task_slot_but_keeps_the_order_email_and_verification():
    filled = {name: (1 if name.endswith("_failures") else "x") for name in TASK_SLOTS}
    tracker = make_tracker(slots={**filled, "order_id": "00123842", "email": "a@b.co", "verified_customer_id": "C1"})
    slots = slot_events(reset_task_slots(tracker))
    assert set(slots) == set(TASK_SLOTS)
    assert slots["order_lookup_failures"] == 0 and slots["cancel_confirmed"] is None


def test_resetting_empty_slots_adds_no_events():
    assert reset_task_slots(make_tracker(slots={"order_lookup_failures": 0, "cancel_confirmed": None})) == []


def test_without_an_order_number_the_task_asks_for_one(shop):
    messages, _ = run_action(ActionRequestRefund(), make_tracker("refund", "get_refund", slots={}))
    assert "need your order number" in texts(messages)


def test_a_locked_order_is_not_checked_and_the_customer_is_kindly_offered_a_person(shop):
    for n in range(PER_ORDER):
        asyncio.run(verification_attempts().record_failure(f"guesser-{n}", "00000108"))
    slots = {"order_id": "00000108", "email": "anna.freeman@example.com", "cancel_confirmed": True}
    messages, events = run_action(ActionCancelOrder(), make_tracker("yes", "affirm", slots=slots))
    assert "stopped checking email addresses for this order" in texts(messages)
    assert "verified_customer_id" not in slot_events(events), "the right address is not checked either"
    assert slot_events(events)["handoff_reason"] == "complex"
    assert asyncio.run(shop.get_order("00000108")).status == "pending", "nothing was cancelled"
