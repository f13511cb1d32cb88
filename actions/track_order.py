"""Where is my order: the status for anyone with the number, the details for the verified customer."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.order_form import OrderFormValidation
from actions.order_task import OrderTaskAction
from actions.orders.order_messages import delay_options, details_sentence, status_sentence
from actions.orders.order_system import Order, OrderStatus

DELAY_BUTTONS = [
    {"title": "Have a person chase it", "payload": "/contact_human_agent"},
    {"title": "Refund policy", "payload": "/check_refund_policy"},
]
DELIVERED_BUTTONS = [
    {"title": "I haven't received it", "payload": "/contact_human_agent"},
    {"title": "Return or refund", "payload": "/get_refund"},
]


class ValidateTrackOrderForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_track_order_form"


class ActionTrackOrder(OrderTaskAction):
    def name(self) -> str:
        return "action_track_order"

    def requires_verification_for(self, order: Order) -> bool:
        """Anyone with the number may see the status; `act` keeps the details for the verified customer."""
        return False

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        text = status_sentence(order)
        if order.status == OrderStatus.DELAYED:
            dispatcher.utter_message(text=f"{text}\n{delay_options()}", buttons=DELAY_BUTTONS)
        elif order.status == OrderStatus.DELIVERED:
            dispatcher.utter_message(text=text, buttons=DELIVERED_BUTTONS)
        else:
            dispatcher.utter_message(text=text)
        if verified:
            dispatcher.utter_message(text=details_sentence(order))
        elif any(e.get("entity") == "email" for e in tracker.latest_message.get("entities") or []):
            dispatcher.utter_message(
                text="The email address you gave doesn't match this order, so I can't show its details here."
            )
        else:
            dispatcher.utter_message(
                text="If you'd like the tracking link and the order details, "
                "tell me the email address you ordered with."
            )
        return []
