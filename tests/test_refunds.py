"""Refunds: eligibility from the order's state, a refund really opened, and following an existing one."""

from __future__ import annotations

import asyncio

from actions.orders.order_system import RefundStatus
from actions.refunds import ActionRequestRefund, ActionTrackRefund
from tests.trackers import make_tracker, run_action, texts


def request(number, customer):
    slots = {"order_id": number, "verified_customer_id": customer}
    return run_action(ActionRequestRefund(), make_tracker("refund please", "get_refund", slots=slots))


def test_a_delivered_order_gets_a_refund_opened(shop):
    messages, _ = request("00054321", "C0001")
    refunds = asyncio.run(shop.refunds_for("00054321"))
    assert len(refunds) == 1 and refunds[0].status == RefundStatus.REQUESTED
    assert refunds[0].refund_id in texts(messages)


def test_an_order_not_yet_shipped_is_pointed_to_cancelling(shop):
    messages, _ = request("00000108", "C0001")
    assert asyncio.run(shop.refunds_for("00000108")) == []
    assert "cancel it" in texts(messages)
    assert messages[0]["buttons"][0]["payload"] == "/cancel_order"


def test_an_order_on_its_way_cannot_be_refunded_yet(shop):
    messages, _ = request("00123842", "C0001")
    assert "still on its way" in texts(messages)


def test_an_order_outside_the_window_is_offered_a_person(shop):
    messages, _ = request("00033333", "C0003")
    assert "more than 30 days ago" in texts(messages)


def test_a_refund_under_way_is_not_opened_twice(shop):
    messages, _ = request("00077777", "C0002")
    assert len(asyncio.run(shop.refunds_for("00077777"))) == 1
    assert "already under way" in texts(messages)


def test_tracking_a_refund_tells_its_state_and_date(shop):
    slots = {"order_id": "00077777", "verified_customer_id": "C0002"}
    messages, _ = run_action(ActionTrackRefund(), make_tracker("where is my refund", "track_refund", slots=slots))
    assert "RF-" in texts(messages) and "being processed" in texts(messages)


def test_tracking_without_a_refund_offers_to_request_one(shop):
    slots = {"order_id": "00054321", "verified_customer_id": "C0001"}
    messages, _ = run_action(ActionTrackRefund(), make_tracker("where is my refund", "track_refund", slots=slots))
    assert "can't see a refund" in texts(messages)
