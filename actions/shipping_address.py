"""Change the delivery address of an order before it ships; afterwards, explain what can still be done."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.human_offer import PERSON_BUTTON, offer_person
from actions.order_form import OrderFormValidation
from actions.order_task import OrderTaskAction
from actions.orders.order_messages import order_label
from actions.orders.order_system import ActionRefused, Order
from actions.orders.order_system_provider import order_system

logger = logging.getLogger(__name__)

MIN_ADDRESS_LENGTH = 10
MAX_ADDRESS_LENGTH = 300
CONFIRM_BUTTONS = [
    {"title": "Yes, that's right", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
]


def clean_address(text: str) -> str:
    """One line, printable characters only; the order system stores exactly what the customer confirmed."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return re.sub(r"\s+", " ", printable).strip()


class ValidateAddressForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_address_form"

    def order_is_actionable(self, order: Order) -> bool:
        return order.address_can_change

    async def validate_shipping_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = clean_address(str(value or ""))
        if len(address) > MAX_ADDRESS_LENGTH:
            dispatcher.utter_message(
                text=f"That's longer than an address can be ({MAX_ADDRESS_LENGTH} characters at most). "
                "Please send just the address: name, street and number, postcode, city, country."
            )
            return {"shipping_address": None}
        if len(address) < MIN_ADDRESS_LENGTH or not any(ch.isdigit() for ch in address):
            dispatcher.utter_message(
                text="That doesn't look like a full address. Please include the street and number, postcode, "
                "city and country."
            )
            return {"shipping_address": None}
        return {"shipping_address": address}


class ActionAskShippingAddress(Action):
    def name(self) -> str:
        return "action_ask_shipping_address"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="What's the new delivery address? Please write it in one message: name, street and number, "
            "postcode, city and country."
        )
        return []


class ActionAskAddressConfirmed(Action):
    def name(self) -> str:
        return "action_ask_address_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text=f"Just to check: deliver order #{tracker.get_slot('order_id')} to\n"
            f"{tracker.get_slot('shipping_address')}\nIs that right?",
            buttons=CONFIRM_BUTTONS,
        )
        return []


class ActionChangeAddress(OrderTaskAction):
    def name(self) -> str:
        return "action_change_address"

    changes_order = True

    def requires_verification_for(self, order: Order) -> bool:
        return order.address_can_change

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        if not order.address_can_change:
            carrier = f" {order.carrier}" if order.carrier else " the carrier"
            dispatcher.utter_message(
                text=f"{order_label(order).capitalize()} has already left our warehouse ({order.status.label}), so "
                f"I can't change its address any more. You can ask{carrier} to redirect it or hold it at a pick-up "
                "point using the tracking link in your shipping email, or a person from our team can help.",
                buttons=[PERSON_BUTTON],
            )
            return []
        address = tracker.get_slot("shipping_address")
        if tracker.get_slot("address_confirmed") is not True or not address:
            dispatcher.utter_message(text=f"OK, I've left the address of {order_label(order)} unchanged.")
            return []
        try:
            await order_system().change_shipping_address(order.number, address, "customer (chat)")
        except ActionRefused as refused:
            logger.info(
                "conversation=%s address change of %s refused: %s", tracker.sender_id, order.number, refused.code
            )
            dispatcher.utter_message(text=f"I couldn't change the address: {refused.message}")
            return offer_person("complex")
        dispatcher.utter_message(
            text=f"Done: {order_label(order)} will be delivered to {address}. "
            "You'll get an email confirming the change."
        )
        return []
