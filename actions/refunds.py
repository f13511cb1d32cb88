"""Refunds: ask for one (eligibility comes from the order's state) and follow one already under way."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.order_form import OrderFormValidation, order_in_slot
from actions.order_task import OrderTaskAction, is_high_value
from actions.orders.order_messages import money, order_label, refund_question, refund_sentence
from actions.orders.order_system import ActionRefused, Order, OrderSystemUnavailable
from actions.orders.order_system_provider import order_system

logger = logging.getLogger(__name__)

PERSON_BUTTON = {"title": "Talk to a person", "payload": "/contact_human_agent"}
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
        """The customer's yes is asked only for a refund the bot would make: a refusal is said at once, and a
        high-value order goes to a person without the question."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        order = await self._order(tracker) if "refund_confirmed" in slots else None
        if order is None or (not is_high_value(order) and await _refusal(order) is None):
            return slots
        return [slot for slot in slots if slot != "refund_confirmed"]


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
        else:
            dispatcher.utter_message(text=refund_question(order, amount), buttons=CONFIRM_BUTTONS)
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
        try:
            refund = await order_system().request_refund(
                order.number, "requested by the customer in chat", "customer (chat)"
            )
        except ActionRefused as refused:
            return _say_refused(dispatcher, tracker, order, refused)
        dispatcher.utter_message(
            text=f"I've opened refund {refund.refund_id} for {money(refund.amount, order.currency)} on "
            f"{order_label(order)}. If there's an item to send back, you'll get a free return label by email. "
            f"The money goes back to your {order.payment_method} within 5 working days of us receiving it."
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
