"""Cancelling: only before shipping, the fee stated first, the customer's yes, and the shop really changes."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from actions.cancel_order import ActionAskCancelConfirmed, ActionCancelOrder
from actions.orders.order_system import OrderStatus
from tests.trackers import make_tracker, run_action, slot_events, texts


def cancel(slots):
    return run_action(ActionCancelOrder(), make_tracker("yes", "affirm", slots=slots))


def test_the_question_states_a_free_cancellation_for_a_pending_order(shop):
    messages, _ = run_action(ActionAskCancelConfirmed(), make_tracker(slots={"order_id": "00000108"}))
    assert "Cancelling is free" in texts(messages)
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]


def test_the_question_states_the_fee_for_an_order_being_packed(shop):
    messages, _ = run_action(ActionAskCancelConfirmed(), make_tracker(slots={"order_id": "00012345"}))
    assert "€4.95 fee" in texts(messages)


def test_a_confirmed_cancellation_changes_the_order_and_refunds_it(shop):
    messages, _ = cancel({"order_id": "00012345", "verified_customer_id": "C0002", "cancel_confirmed": True})
    order = asyncio.run(shop.get_order("00012345"))
    refunds = asyncio.run(shop.refunds_for("00012345"))
    assert order.status == OrderStatus.CANCELLED
    assert refunds[0].amount == order.total - Decimal("4.95")
    assert "is cancelled" in texts(messages)


def test_a_no_leaves_the_order_alone(shop):
    messages, _ = cancel({"order_id": "00000108", "verified_customer_id": "C0001", "cancel_confirmed": False})
    assert asyncio.run(shop.get_order("00000108")).status == OrderStatus.PENDING
    assert "stays as it is" in texts(messages)


def test_a_shipped_order_gets_the_return_path_instead(shop):
    messages, _ = cancel({"order_id": "00123842"})
    assert asyncio.run(shop.get_order("00123842")).status == OrderStatus.SHIPPED
    assert "return it within 30 days" in texts(messages)


def test_an_unverified_customer_cannot_cancel_and_is_offered_a_person(shop):
    messages, events = cancel({"order_id": "00000108", "cancel_confirmed": True, "email_failures": 2})
    assert asyncio.run(shop.get_order("00000108")).status == OrderStatus.PENDING
    assert slot_events(events)["handoff_reason"] == "complex"
    assert "couldn't confirm that this order is yours" in texts(messages)


def test_the_task_slots_are_cleared_for_the_next_task(shop):
    slots = {"order_id": "00000108", "verified_customer_id": "C0001", "cancel_confirmed": True, "email_failures": 1}
    _, events = cancel(slots)
    cleared = slot_events(events)
    assert cleared["cancel_confirmed"] is None
    assert cleared["email_failures"] == 0
    assert "order_id" not in cleared and "verified_customer_id" not in cleared
