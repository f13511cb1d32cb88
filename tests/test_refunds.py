"""Refunds: eligibility from the order's state, the customer's informed yes, a refund really opened, and following
an existing one."""

from __future__ import annotations

import asyncio

from actions.orders.order_system import RefundStatus
from actions.refunds import (
    ActionAskRefundConfirmed,
    ActionAskRefundItems,
    ActionRequestRefund,
    ActionTrackRefund,
    ValidateRefundForm,
)
from tests.trackers import make_tracker, run_action, slot_events, texts, user_event


def request(number, customer, confirmed=True):
    slots = {"order_id": number, "verified_customer_id": customer, "refund_confirmed": confirmed}
    return run_action(ActionRequestRefund(), make_tracker("refund please", "get_refund", slots=slots))


def test_the_question_names_the_items_the_amount_and_where_the_money_goes_and_moves_none(shop):
    order = asyncio.run(shop.get_order("00054321"))
    assert order is not None
    slots = {"order_id": "00054321", "verified_customer_id": "C0001", "requested_slot": "refund_confirmed"}
    messages, _ = run_action(ActionAskRefundConfirmed(), make_tracker("refund", "get_refund", slots=slots))
    question = texts(messages)
    assert all(item.name in question for item in order.items)
    assert f"{order.total:,.2f}" in question and order.payment_method in question
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert asyncio.run(shop.refunds_for("00054321")) == []


def test_no_refund_is_opened_without_the_customers_yes(shop):
    for answer in (False, None):
        messages, _ = request("00054321", "C0001", confirmed=answer)
        assert "haven't opened a refund" in texts(messages)
    assert asyncio.run(shop.refunds_for("00054321")) == []


def test_the_yes_is_asked_only_for_a_refund_the_shop_would_make(shop):
    def next_slot(number, email):
        slots = {"order_id": number, "email": email, "requested_slot": "email"}
        tracker = make_tracker(email, "inform", slots=slots, active_loop="refund_form", candidates={"email": email})
        return slot_events(run_action(ValidateRefundForm(), tracker)[1]).get("requested_slot", "asked by Rasa")

    assert next_slot("00054321", "anna.freeman@example.com") == "refund_confirmed"
    assert next_slot("00123842", "anna.freeman@example.com") is None, "on its way: the form ends and says why"
    assert next_slot("00500500", "anna.freeman@example.com") is None, "worth €899: a person does it"


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


def ask_items(named, answer=None):
    """The refund form after the email, when the customer named `named`; `answer` is their reply to "which?"."""
    slots = {"order_id": "00054321", "verified_customer_id": "C0001", "product": named}
    if answer is None:
        tracker = make_tracker("anna.freeman@example.com", "inform", slots=slots, active_loop="refund_form")
    else:
        slots["requested_slot"] = "refund_items"
        tracker = make_tracker(answer, "inform", slots=slots, active_loop="refund_form")
    return slot_events(run_action(ValidateRefundForm(), tracker)[1])


def test_naming_an_item_of_the_order_asks_to_refund_just_that_item(shop):
    order = asyncio.run(shop.get_order("00054321"))
    item = order.items[0]
    assert len(order.items) > 1, "the demo order must hold several items for this test to mean anything"
    chosen = ask_items([item.name.split()[-1]])["refund_items"]
    assert chosen == item.sku
    slots = {"order_id": "00054321", "verified_customer_id": "C0001", "refund_items": chosen}
    messages, _ = run_action(ActionAskRefundConfirmed(), make_tracker("refund", "get_refund", slots=slots))
    question = texts(messages)
    assert item.name in question and f"{item.unit_price * item.quantity:,.2f}" in question
    assert all(other.name not in question for other in order.items[1:])

    slots["refund_confirmed"] = True
    messages, _ = run_action(ActionRequestRefund(), make_tracker("yes", "affirm", slots=slots))
    refunds = asyncio.run(shop.refunds_for("00054321"))
    assert [r.amount for r in refunds] == [item.unit_price * item.quantity]
    assert item.name in refunds[0].reason and item.name in texts(messages)


def test_an_item_not_in_the_order_is_said_plainly_and_the_items_offered(shop):
    order = asyncio.run(shop.get_order("00054321"))
    assert "refund_items" not in ask_items(["hovercraft"]), "nothing is chosen for the customer"
    slots = {"order_id": "00054321", "verified_customer_id": "C0001", "product": ["hovercraft"]}
    slots["requested_slot"] = "refund_items"
    request = user_event("refund the hovercraft from 00054321", "get_refund")
    tracker = make_tracker("anna.freeman@example.com", "inform", slots=slots, history=[request])
    messages, _ = run_action(ActionAskRefundItems(), tracker)
    assert "can't see “hovercraft” in order #00054321" in texts(messages)
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == [i.name for i in order.items] + ["The whole order", "Talk to a person"]
    assert asyncio.run(shop.refunds_for("00054321")) == []

    asked = [request, {"event": "action", "name": "action_ask_refund_items"}]
    messages, _ = run_action(ActionAskRefundItems(), make_tracker("a pony", "inform", slots=slots, history=asked))
    assert "didn't catch which" in texts(messages) and "hovercraft" not in texts(messages)


def test_the_answer_to_which_item_is_read_from_its_words(shop):
    order = asyncio.run(shop.get_order("00054321"))
    item = order.items[-1]
    assert ask_items(["hovercraft"], answer=f"oh sorry, the {item.name.lower()}")["refund_items"] == item.sku
    assert ask_items(["hovercraft"], answer="the whole order then")["refund_items"] == "all"
    assert ask_items(["hovercraft"], answer="a pony")["refund_items"] is None, "asked again"


def test_an_item_named_in_words_the_nlu_did_not_mark_is_still_found(shop):
    order = asyncio.run(shop.get_order("00054321"))
    item = order.items[1]
    slots = {"order_id": "00054321", "verified_customer_id": "C0001"}
    text = f"please refund the {item.name.lower()} from order 00054321"
    tracker = make_tracker(text, "get_refund", slots=slots, active_loop="refund_form")
    assert slot_events(run_action(ValidateRefundForm(), tracker)[1])["refund_items"] == item.sku


def test_naming_an_item_when_asked_to_confirm_changes_what_is_refunded(shop):
    order = asyncio.run(shop.get_order("00054321"))
    item = order.items[0]
    slots = {"order_id": "00054321", "verified_customer_id": "C0001", "refund_items": "all"}
    slots["requested_slot"] = "refund_confirmed"
    tracker = make_tracker(f"just the {item.name.lower()}", "out_of_scope", slots=slots, active_loop="refund_form")
    assert slot_events(run_action(ValidateRefundForm(), tracker)[1])["refund_items"] == item.sku
    tracker = make_tracker("yes", "affirm", slots=slots, active_loop="refund_form")
    assert "refund_items" not in slot_events(run_action(ValidateRefundForm(), tracker)[1])
