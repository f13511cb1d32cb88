"""What every order task shares: clearing its slots, and what a stranger may and may not do."""

from __future__ import annotations

from actions.order_task import TASK_SLOTS, reset_task_slots
from actions.refunds import ActionRequestRefund
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_resetting_keeps_the_order_email_and_verification():
    slots = slot_events(reset_task_slots())
    assert set(slots) == set(TASK_SLOTS)
    assert {"order_id", "email", "verified_customer_id"}.isdisjoint(slots)
    assert slots["order_lookup_failures"] == 0 and slots["cancel_confirmed"] is None


def test_without_an_order_number_the_task_asks_for_one(shop):
    messages, _ = run_action(ActionRequestRefund(), make_tracker("refund", "get_refund", slots={}))
    assert "need your order number" in texts(messages)
