"""What cancelling costs: the rule, and the exact fee for the customer's order when they name one."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.order_form import order_in_slot
from actions.orders.order_messages import money, order_label
from actions.orders.order_system import OrderSystemUnavailable
from actions.orders.order_system_provider import settings

logger = logging.getLogger(__name__)

BUTTONS = [
    {"title": "Cancel an order", "payload": "/cancel_order"},
    {"title": "Refund policy", "payload": "/check_refund_policy"},
]


class ActionExplainCancellationFee(Action):
    def name(self) -> str:
        return "action_explain_cancellation_fee"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        fee = settings().processing_cancellation_fee
        rule = (
            "Cancelling is free while an order is pending. Once we've started packing it (status 'processing') "
            f"the cancellation fee is {money(fee, 'EUR')} (or the same in your currency). After it has shipped "
            "it can't be cancelled, but you can return it within 30 days for a full refund."
        )
        order = None
        try:
            order = await order_in_slot(tracker)
        except OrderSystemUnavailable as exc:
            logger.warning("conversation=%s fee lookup failed: %s", tracker.sender_id, exc)
        if order is not None:
            if order.can_be_cancelled:
                rule += (
                    f"\nFor {order_label(order)} ({order.status.label}) the fee would be "
                    f"{money(order.cancellation_fee, order.currency)}."
                )
            else:
                rule += f"\n{order_label(order).capitalize()} is {order.status.label}, so it can't be cancelled now."
        dispatcher.utter_message(text=rule, buttons=BUTTONS)
        return []
