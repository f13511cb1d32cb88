"""Whole conversations through the real Rasa server (trained model), action server and shop database."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from actions.orders.order_system import OrderStatus, RefundStatus
from tests.rasa_stack import RasaStack, new_sender
from tests.shop_orders import refundable_orders_of_several_items


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def handoff_of(replies: list[dict]) -> dict | None:
    packets = [
        r["custom"]["handoff"] for r in replies if isinstance(r.get("custom"), dict) and "handoff" in r["custom"]
    ]
    assert len(packets) <= 1
    return packets[0] if packets else None


def chat(assistant: RasaStack, *messages: str) -> list[list[dict]]:
    sender = new_sender()
    return [assistant.say(sender, message) for message in messages]


def test_a_task_asked_again_inside_another_tasks_form_gets_one_answer_not_a_loop(assistant):
    """Found by the soak: the core fallback repeated itself until Rasa's circuit breaker, then the bot fell
    silent."""
    turns = chat(
        assistant,
        "send me a copy of invoice #48213",
        "track my package",
        "do you ship to Canada",
        "track my package",
        "hi",
    )
    assert all(1 <= len(replies) <= 3 for replies in turns), [len(replies) for replies in turns]


def test_tracking_with_the_number_in_the_first_message(assistant):
    (reply,) = chat(assistant, "where is my order 00123842?")
    assert "on its way with DHL" in texts(reply)


def test_tracking_asks_for_the_number_and_gives_details_after_the_email(assistant):
    asked, answered, verified = chat(
        assistant, "what's the status of my package", "it's 00123842", "my email is anna.freeman@example.com"
    )
    assert "What's your order number?" in texts(asked)
    assert "on its way" in texts(answered) and "Station Road" not in texts(answered)
    assert "Station Road" in texts(verified) and "dhl.com/track" in texts(verified)


def test_a_wrong_number_is_asked_again_and_a_second_miss_offers_a_person(assistant):
    _, first, second, accepted = chat(assistant, "track my order", "55555551", "55555552", "yes please")
    assert "couldn't find an order with the number 55555551" in texts(first)
    assert "bring in a person" in texts(second)
    packet = handoff_of(accepted)
    assert packet["reason"] == "not_understood" and packet["priority"] == "normal"


def test_a_delayed_order_apologises_with_the_new_date(assistant):
    (reply,) = chat(assistant, "has order 04587345 shipped?")
    assert "I'm sorry" in texts(reply) and "new expected delivery date" in texts(reply)
    assert "What you can do" in texts(reply)


def test_cancelling_a_pending_order_changes_the_shop(assistant, assistant_shop):
    _, _, question, done = chat(
        assistant, "I want to cancel an order", "#00108", "anna.freeman@example.com", "yes, cancel it"
    )
    assert "Cancelling is free" in texts(question)
    assert "is cancelled" in texts(done)
    assert asyncio.run(assistant_shop.get_order("00000108")).status == OrderStatus.CANCELLED


def test_a_shipped_order_gets_the_return_path(assistant, assistant_shop):
    (reply,) = chat(assistant, "please cancel order 00088888")
    assert "return it within 30 days" in texts(reply)
    assert asyncio.run(assistant_shop.get_order("00088888")).status == OrderStatus.OUT_FOR_DELIVERY


def test_changing_the_address_before_shipping_is_confirmed_and_stored(assistant, assistant_shop):
    address = "Ben Okafor, 9 Quay Street, Manchester M3 3HN, United Kingdom"
    *_, confirm, done = chat(
        assistant, "I need to change the delivery address of order 00012345", "ben.okafor@example.com", address, "yes"
    )
    assert address in texts(confirm)
    assert "Done" in texts(done)
    assert asyncio.run(assistant_shop.get_order("00012345")).shipping_address == address


def test_a_refund_is_asked_first_a_no_moves_no_money_a_yes_opens_it_and_it_is_followed(assistant, assistant_shop):
    _, question, declined, asked_again, opened, followed = chat(
        assistant,
        "I want a refund for order 00054321",
        "anna.freeman@example.com",
        "no",
        "I want a refund for order 00054321",
        "yes",
        "where is my refund?",
    )
    for asked in (question, asked_again):
        assert "Shall I refund" in texts(asked) and "Yes, refund it" in str(asked)
    assert "haven't opened a refund" in texts(declined)
    refunds = asyncio.run(assistant_shop.refunds_for("00054321"))
    assert len(refunds) == 1 and refunds[0].status == RefundStatus.REQUESTED
    assert refunds[0].refund_id in texts(opened)
    assert refunds[0].refund_id in texts(followed)


def test_a_refund_for_something_the_order_does_not_hold_says_so_and_refunds_just_the_item_chosen(
    assistant, assistant_shop
):
    order, email = next(
        (o, e)
        for o, e in refundable_orders_of_several_items(assistant.shop_db, assistant_shop)
        if not any("earbud" in item.name.lower() for item in o.items)
    )
    chosen = order.items[-1]
    _, not_in_order, question, opened = chat(
        assistant,
        f"I'd like a refund for order {order.number}, the earbuds stopped working",
        email,
        "/inform" + json.dumps({"product": chosen.name}),
        "yes",
    )
    assert "can't see “earbuds”" in texts(not_in_order)
    titles = [b["title"] for reply in not_in_order for b in reply.get("buttons") or []]
    assert titles[: len(order.items)] == [item.name for item in order.items]
    amount = chosen.unit_price * chosen.quantity
    assert chosen.name in texts(question) and f"{amount:,.2f}" in texts(question)
    assert all(item.name not in texts(question) for item in order.items[:-1])
    refunds = asyncio.run(assistant_shop.refunds_for(order.number))
    assert [r.amount for r in refunds] == [amount]
    assert refunds[0].refund_id in texts(opened)


def test_a_refund_of_an_item_named_in_the_first_message_asks_for_just_that_item(assistant, assistant_shop):
    order, email = refundable_orders_of_several_items(assistant.shop_db, assistant_shop)[-1]
    item = order.items[0]
    _, question, declined = chat(
        assistant, f"please refund the {item.name.lower()} from order {order.number}", email, "no"
    )
    amount = item.unit_price * item.quantity
    assert item.name in texts(question) and f"{amount:,.2f}" in texts(question), texts(question)
    assert all(other.name not in texts(question) for other in order.items[1:])
    assert "haven't opened a refund" in texts(declined)
    assert asyncio.run(assistant_shop.refunds_for(order.number)) == []


def test_an_invoice_link_comes_from_the_order_system(assistant):
    _, reply = chat(assistant, "send me the invoice for order 00066666", "chloe.martin@example.com")
    assert "/shop/invoices/INV-" in texts(reply)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("what delivery options do you have?", "Express (1–2 working days)"),
        ("how long does shipping take to Ireland", "Rest of the EU"),
        ("which payment methods do you accept", "PayPal"),
        ("my payment failed at checkout", "payment trouble"),
        ("what's your refund policy", "within 30 days of delivery"),
        ("thanks, bye", "Have a lovely day"),
        ("thank you, that's all", "Have a lovely day"),
        ("how do I create an account", "Create an account"),
        ("how can I update my email address on my profile", "Personal details"),
        ("please delete my account", "Delete my account"),
        ("I forgot my password", "Forgot your password?"),
        ("I can't register, the form shows an error", "signing up isn't working"),
        ("I want to upgrade to premium", "Membership"),
        ("how do I order something", "Add to basket"),
        ("can I swap an item in my order", "can't be changed once it's placed"),
        ("how do I save a new shipping address", "Addresses"),
        ("how much does it cost to cancel", "cancellation fee is €4.95"),
        ("are you a robot?", "I'm a bot"),
    ],
)
def test_routine_questions_get_useful_answers(assistant, message, expected):
    (reply,) = chat(assistant, message)
    assert expected in texts(reply)


def test_the_newsletter_choice_is_stored(assistant):
    _, done = chat(assistant, "subscribe me to your newsletter", "reader.one@example.org")
    assert "reader.one@example.org is subscribed" in texts(done)


def test_a_review_is_collected(assistant):
    _, _, done = chat(assistant, "I'd like to write a review", "4", "Nice shop, delivery was a day late")
    assert "review is saved" in texts(done)


@pytest.mark.parametrize(
    ("message", "reason", "priority"),
    [
        ("I want to file a complaint about a damaged parcel", "complex", "high"),
        ("can I talk to a human please", "requested", "normal"),
        ("how can I contact customer service", "requested", "normal"),
    ],
)
def test_complaints_and_requests_for_people_hand_over_with_the_contract(assistant, message, reason, priority):
    (reply,) = chat(assistant, message)
    packet = handoff_of(reply)
    assert packet is not None
    assert (packet["reason"], packet["priority"]) == (reason, priority)
    assert packet["summary"] and isinstance(packet["intents"], list) and "entities" in packet


def test_a_handoff_in_the_middle_of_a_form_ends_the_form(assistant):
    sender = new_sender()
    assistant.say(sender, "cancel my order")
    packet = handoff_of(assistant.say(sender, "just get me a human agent"))
    assert packet["interrupted_form"] == "cancel_order_form"
    assert assistant.tracker(sender)["active_loop"] == {}


@pytest.mark.parametrize(
    "question",
    ["what's the weather like in Paris", "tell me a joke", "what's my bank balance", "can you book me a flight"],
)
def test_out_of_scope_questions_get_what_the_bot_can_do(assistant, question):
    (reply,) = chat(assistant, question)
    assert "I can help with your orders" in texts(reply)


def test_out_of_scope_shows_what_the_bot_can_do_then_offers_a_person(assistant):
    first, second = chat(assistant, "what's the weather tomorrow", "tell me a joke")
    assert "I can help with your orders" in texts(first)
    assert any(b["payload"] == "/contact_human_agent" for r in first for b in r.get("buttons") or [])
    assert "bring in a person" in texts(second)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "🙂🙂🙂",
        "x" * 10_000,
        "¿Dónde está mi pedido?",
        "order 00123842'; DROP TABLE orders; --",
        "<script>alert(1)</script>",
    ],
)
def test_bad_input_gets_a_reply_and_breaks_nothing(assistant, assistant_shop, message):
    (reply,) = chat(assistant, message)
    assert texts(reply).strip(), f"no reply to {message[:30]!r}"
    assert "Traceback" not in texts(reply)
    assert asyncio.run(assistant_shop.get_order("00123842")) is not None


def test_an_unreachable_order_system_gets_an_apology_and_the_offer_of_a_person(assistant):
    assistant.start_actions(env={"ORDER_SYSTEM": "http", "SHOP_API_URL": "http://127.0.0.1:9", "SHOP_API_TIMEOUT": "1"})
    try:
        started = time.monotonic()
        (reply,) = chat(assistant, "where is order 00123842")
        assert time.monotonic() - started < 10
        assert "can't reach our order system" in texts(reply)
        assert "bring in a person" in texts(reply)
    finally:
        assistant.start_actions()


def test_the_parse_data_carries_the_emotion_score(assistant):
    parsed = assistant.parse("THIS IS TOTALLY USELESS, I'm furious!!!")
    assert parsed["emotion"]["level"] == "strong" and parsed["emotion"]["label"] == "anger"
    assert "shouting" in parsed["emotion"]["cues"]
    assert assistant.parse("cancel my order please")["emotion"]["level"] == "none"


def test_an_angry_customer_goes_to_a_person_at_once_and_urgently(assistant):
    (reply,) = chat(assistant, "where is my order 00123842?? I AM FURIOUS, THIS IS USELESS!!!")
    packet = handoff_of(reply)
    assert (packet["reason"], packet["priority"]) == ("emotional", "urgent")
    assert "emotion:strong:anger" in packet["signals"] and packet["emotion"]["level"] == "strong"


def test_a_mildly_annoyed_customer_is_acknowledged_and_then_answered(assistant):
    (reply,) = chat(assistant, "where is my order 00123842, this is taking forever and it's so annoying")
    assert handoff_of(reply) is None
    assert texts(reply).startswith("I'm sorry")
    assert "on its way with DHL" in texts(reply)


def test_negative_in_two_messages_in_a_row_goes_to_a_person(assistant):
    first, second = chat(
        assistant,
        "where is my order 00123842, this is taking forever and it's so annoying",
        "that's a bit disappointing, why so slow?",
    )
    assert handoff_of(first) is None
    packet = handoff_of(second)
    assert (packet["reason"], packet["priority"]) == ("emotional", "high")
    assert "negative_turns:2" in packet["signals"]


@pytest.mark.parametrize(
    ("message", "signal", "priority"),
    [
        ("my father passed away and I need to cancel his orders", "high_stakes:bereavement", "high"),
        ("there is a charge from you on my card that I did not make, this is fraud", "high_stakes:fraud", "urgent"),
        ("I will be contacting my lawyer about order 00123842", "high_stakes:legal", "high"),
        ("the phone charger you sold me caught fire last night", "high_stakes:safety", "urgent"),
        ("under GDPR I demand you delete all my personal data", "high_stakes:data", "high"),
        ("the parcel came late, the mug inside was broken and I was charged twice", "several_problems:", "high"),
    ],
)
def test_high_stakes_and_tangled_problems_go_to_a_person(assistant, message, signal, priority):
    (reply,) = chat(assistant, message)
    packet = handoff_of(reply)
    assert (packet["reason"], packet["priority"]) == ("complex", priority)
    assert any(s.startswith(signal) for s in packet["signals"]), packet["signals"]


def test_the_same_question_after_an_answer_goes_to_a_person(assistant):
    first, second = chat(assistant, "how long does delivery take?", "how long does delivery take??")
    assert "working days" in texts(first)
    packet = handoff_of(second)
    assert packet["reason"] == "complex" and "repeated_need:delivery_period" in packet["signals"]


def test_a_refund_on_a_high_value_order_goes_to_a_person(assistant, assistant_shop):
    _, reply = chat(assistant, "I want a refund for order 00500500", "anna.freeman@example.com")
    packet = handoff_of(reply)
    assert packet["reason"] == "complex" and "action:high_value_order" in packet["signals"]
    assert packet["order_id"] == "00500500"
    assert asyncio.run(assistant_shop.refunds_for("00500500")) == []


@pytest.mark.parametrize(
    ("text", "order_ids"),
    [
        ("I spent $11200 on that bike, can I have it back?", []),
        ("refund 16400 euros to my card for order 00123842", ["00123842"]),
        ("you charged me £23450 by mistake, I want it returned", []),
    ],
)
def test_money_amounts_are_never_taken_for_order_numbers(assistant, text, order_ids):
    entities = assistant.parse(text)["entities"]
    assert [e["value"] for e in entities if e["entity"] == "order_id"] == order_ids


def test_an_invoice_number_is_an_invoice_id_not_an_order_number(assistant):
    entities = assistant.parse("can you send bill #20931 again")["entities"]
    assert [(e["entity"], e["value"]) for e in entities] == [("invoice_id", "#20931")]
