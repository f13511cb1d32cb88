"""Cancel an order: only before it ships, with the fee stated and the customer's yes, then really cancelled."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.human_offer import PERSON_BUTTON, offer_person
from actions.order_form import OrderFormValidation, order_in_slot
from actions.order_task import OrderTaskAction
from actions.orders.order_messages import cancellation_question, money, order_label, paid_with, return_path
from actions.orders.order_system import ActionRefused, Order, OrderStatus, OrderSystemUnavailable
from actions.orders.order_system_provider import order_system

logger = logging.getLogger(__name__)

CONFIRM_BUTTONS = [
    {"title": "Yes, cancel it", "payload": "/affirm"},
    {"title": "No, keep it", "payload": "/deny"},
]
RETURN_BUTTONS = [
    {"title": "Refund policy", "payload": "/check_refund_policy"},
    PERSON_BUTTON,
]


class ValidateCancelOrderForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_cancel_order_form"

    def order_is_actionable(self, order: Order) -> bool:
        return order.can_be_cancelled


class ActionAskCancelConfirmed(Action):
    """States what cancelling costs before asking, so the customer's yes is informed."""

    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            order = await order_in_slot(tracker)
        except OrderSystemUnavailable:
            order = None
        if order is None:
            dispatcher.utter_message(text="Shall I cancel the order?", buttons=CONFIRM_BUTTONS)
        else:
            dispatcher.utter_message(text=cancellation_question(order), buttons=CONFIRM_BUTTONS)
        return []


class ActionCancelOrder(OrderTaskAction):
    def name(self) -> str:
        return "action_cancel_order"

    changes_order = True

    def requires_verification_for(self, order: Order) -> bool:
        return order.can_be_cancelled

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        if order.status == OrderStatus.CANCELLED:
            dispatcher.utter_message(text=f"{order_label(order).capitalize()} is already cancelled.")
            return []
        if not order.can_be_cancelled:
            dispatcher.utter_message(text=return_path(order), buttons=RETURN_BUTTONS)
            return []
        if tracker.get_slot("cancel_confirmed") is not True:
            dispatcher.utter_message(
                text=f"Alright, I haven't cancelled anything: {order_label(order)} stays as it is."
            )
            return []
        try:
            cancelled = await order_system().cancel_order(order.number, "customer asked in chat", "customer (chat)")
        except ActionRefused as refused:
            logger.info("conversation=%s cancel of %s refused: %s", tracker.sender_id, order.number, refused.code)
            dispatcher.utter_message(text=f"I couldn't cancel {order_label(order)}: {refused.message}")
            return offer_person("complex")
        refund = order.total - order.cancellation_fee
        dispatcher.utter_message(
            text=f"Done: {order_label(cancelled)} is cancelled. "
            + (
                f"A refund of {money(refund, order.currency)} goes back to {paid_with(order.payment_method)} "
                "within 5 working days; you'll get a confirmation email."
                if refund > 0
                else "Nothing was charged, so there is nothing to refund."
            )
        )
        return []
