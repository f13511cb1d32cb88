"""Refunds: ask for one (eligibility comes from the order's state) and follow one already under way."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.human_offer import PERSON_BUTTON
from actions.order_form import OrderFormValidation, order_in_slot
from actions.order_task import OrderTaskAction, is_high_value
from actions.orders.order_messages import (
    item_list,
    money,
    not_in_order_question,
    order_label,
    paid_with,
    refund_question,
    refund_sentence,
)
from actions.orders.order_system import ActionRefused, Order, OrderItem, OrderSystemUnavailable
from actions.orders.order_system_provider import order_system
from actions.orders.refund_items import RefundChoice, choose, decode, encode, items_amount

logger = logging.getLogger(__name__)

CONFIRM_BUTTONS = [
    {"title": "Yes, refund it", "payload": "/affirm"},
    {"title": "No, leave it", "payload": "/deny"},
]

REFUSAL_ANSWERS = {
    "cancel_instead": (
        "{label} hasn't shipped yet, so the quickest way to get your money back is to cancel it: "
        "the refund then goes out automatically.",
        [{"title": "Cancel the order", "payload": "/cancel_order"}, PERSON_BUTTON],
    ),
    "in_transit": (
        "{label} is still on its way. Once it arrives you can return it within 30 days for a full refund; "
        "if it's late or lost, a person from our team can look into it now.",
        [PERSON_BUTTON],
    ),
    "already_refunded": (
        "{label} has already been refunded in full.",
        [{"title": "Where is my refund?", "payload": "/track_refund"}],
    ),
    "refund_open": ("{message}", [{"title": "Where is my refund?", "payload": "/track_refund"}]),
    "outside_window": (
        "{label} was delivered more than 30 days ago, which is outside our usual return window. Faulty items are "
        "still covered by the warranty: a person from our team can look at your case.",
        [PERSON_BUTTON],
    ),
}


class ValidateRefundForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_refund_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Which items and the customer's yes are asked only for a refund the bot would make: a refusal is said
        at once, and a high-value order goes to a person without the questions."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        order = await self._order(tracker) if "refund_confirmed" in slots else None
        if order is None or (not is_high_value(order) and await _refusal(order) is None):
            return slots
        return [slot for slot in slots if slot not in ("refund_items", "refund_confirmed")]

    async def extract_refund_items(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The items the customer named, resolved against the order: the `product` entities of this request, or
        else the words of the message that asked for the refund. Something named that the order does not hold
        leaves the slot empty, so the form asks which item. Asked which (or asked to confirm), the answer is read
        from its entities or, failing those, its words: "just the pillow" changes what is refunded."""
        requested = tracker.get_slot("requested_slot")
        if tracker.get_slot("refund_items") is not None and requested != "refund_confirmed":
            return {}
        order = await self._order(tracker)
        if order is None:
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = list(tracker.get_latest_entity_values("product")) or [tracker.latest_message.get("text") or ""]
        if requested == "refund_items":
            if intent in NOT_AN_ANSWER:
                return {}
            choice = choose(answer, order)
            return {"refund_items": None if choice.not_in_order else encode(choice)}
        if requested == "refund_confirmed":
            if intent in NOT_AN_ANSWER or intent in ("affirm", "deny"):
                return {}
            choice = choose(answer, order)
            changed = choice.items and not choice.not_in_order and encode(choice) != tracker.get_slot("refund_items")
            return {"refund_items": encode(choice)} if changed else {}
        named = tracker.get_slot("product") or []
        if named:
            choice = choose(named, order)
            return {} if choice.not_in_order else {"refund_items": encode(choice)}
        # Nothing marked as a product: an item of the order in the request's words, else the whole order.
        return {"refund_items": encode(RefundChoice(choose([_request_text(tracker)], order).items))}


class ActionAskRefundItems(Action):
    """Says plainly that the order does not hold what the customer named, and offers its items to choose from."""

    def name(self) -> str:
        return "action_ask_refund_items"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order = await order_in_slot(tracker)
        if order is None:
            dispatcher.utter_message(text="Which item would you like refunded?", buttons=[PERSON_BUTTON])
            return []
        missing = choose(tracker.get_slot("product") or [], order).not_in_order
        text = (
            not_in_order_question(order, missing)
            if missing and not _answering_which_item(tracker)
            else f"Sorry, I didn't catch which. {order_label(order).capitalize()} holds {item_list(order.items)}. "
            "Which would you like refunded?"
        )
        items = order.items if len(order.items) <= MAX_ITEM_BUTTONS else []
        buttons = [_item_button(item) for item in items]
        buttons += [{"title": "The whole order", "payload": _inform_product("the whole order")}, PERSON_BUTTON]
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskRefundConfirmed(Action):
    """States the items, the amount and where the money goes before asking, so the customer's yes is informed."""

    def name(self) -> str:
        return "action_ask_refund_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            order = await order_in_slot(tracker)
            amount = await order_system().refund_quote(order.number) if order else None
        except (OrderSystemUnavailable, ActionRefused):
            order, amount = None, None
        if order is None or amount is None:
            dispatcher.utter_message(text="Shall I open the refund?", buttons=CONFIRM_BUTTONS)
            return []
        items = decode(tracker.get_slot("refund_items"), order)
        text = refund_question(order, items_amount(items, amount), items)
        dispatcher.utter_message(text=text, buttons=CONFIRM_BUTTONS)
        return []


class ValidateRefundStatusForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_refund_status_form"


class ActionRequestRefund(OrderTaskAction):
    changes_order = True

    def name(self) -> str:
        return "action_request_refund"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        if tracker.get_slot("refund_confirmed") is not True:
            refused = await _refusal(order)
            if refused is not None:
                return _say_refused(dispatcher, tracker, order, refused)
            dispatcher.utter_message(text=f"Alright, I haven't opened a refund: {order_label(order)} stays as it is.")
            return []
        items = decode(tracker.get_slot("refund_items"), order)
        try:
            amount = None if not items else items_amount(items, await order_system().refund_quote(order.number))
            reason = "requested by the customer in chat" + (f": {item_list(items)}" if items else "")
            refund = await order_system().request_refund(order.number, reason, "customer (chat)", amount)
        except ActionRefused as refused:
            return _say_refused(dispatcher, tracker, order, refused)
        dispatcher.utter_message(
            text=f"I've opened refund {refund.refund_id} for {money(refund.amount, order.currency)} on "
            f"{order_label(order)}{' (' + item_list(items) + ')' if items else ''}. If there's an item to send back, "
            f"you'll get a free return label by email. The money goes back to {paid_with(order.payment_method)} within "
            "5 working days of us receiving it."
        )
        return []


class ActionTrackRefund(OrderTaskAction):
    def name(self) -> str:
        return "action_track_refund"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        refunds = await order_system().refunds_for(order.number)
        if not refunds:
            dispatcher.utter_message(
                text=f"I can't see a refund on {order_label(order)} yet. Would you like to request one?",
                buttons=[{"title": "Request a refund", "payload": "/get_refund"}, PERSON_BUTTON],
            )
            return []
        dispatcher.utter_message(text="\n".join(refund_sentence(r, order.currency) for r in refunds))
        return []


async def _refusal(order: Order) -> ActionRefused | None:
    """Why the shop would refuse a refund of this order now, or None when it would make one."""
    try:
        await order_system().refund_quote(order.number)
    except ActionRefused as refused:
        return refused
    return None


def _say_refused(
    dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, refused: ActionRefused
) -> list[EventType]:
    logger.info("conversation=%s refund on %s refused: %s", tracker.sender_id, order.number, refused.code)
    text, buttons = REFUSAL_ANSWERS.get(refused.code, ("{message}", [PERSON_BUTTON]))
    dispatcher.utter_message(
        text=text.format(label=order_label(order).capitalize(), message=refused.message), buttons=buttons
    )
    return []


NOT_AN_ANSWER = frozenset({"contact_human_agent", "contact_customer_service", "complaint", "deny", "goodbye"})
"""Intents that, asked which item, mean something else: the form lets the rules answer them."""
MAX_ITEM_BUTTONS = 6
"""An order with more items than this is chosen from in words (the question lists them); a wall of buttons
helps nobody on a phone."""


def _answering_which_item(tracker: Tracker) -> bool:
    """Whether the customer's latest message answered "which item?" (so asking again says it was not understood)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                return False
            seen_latest = True
        elif seen_latest and event.get("event") == "action" and event.get("name") == "action_ask_refund_items":
            return True
    return False


def _request_text(tracker: Tracker) -> str:
    """What the customer wrote when asking for this refund (the latest `get_refund` message)."""
    for event in reversed(tracker.events):
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == "get_refund"
        ):
            return str(event.get("text") or "")
    return ""


def _inform_product(name: str) -> str:
    """A button's payload that names one thing, as if the customer had typed it (JSON keeps quotes safe)."""
    return "/inform" + json.dumps({"product": name})


def _item_button(item: OrderItem) -> dict[str, str]:
    return {"title": item.name, "payload": _inform_product(item.name)}
