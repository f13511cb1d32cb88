"""Validation shared by every form that is about one order: the order number, then who the customer is.

A form gives up (its required slots become empty, so it ends and its task action explains) when the number
was wrong twice, the email was wrong twice, the order system is down, or the order can no longer be changed.
It stops checking email addresses for good once too many were wrong for the conversation or the order
(actions/orders/verification_attempts.py), so the address on someone else's order cannot be guessed.
"""

from __future__ import annotations

import abc
import contextvars
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.orders.order_number import find_order_number, order_number_from
from actions.orders.order_system import Order, OrderSystemUnavailable
from actions.orders.order_system_provider import order_system, settings
from actions.orders.verification_attempts import verification_attempts
from actions.verification import email_matches, is_verified_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

_orders_this_run: contextvars.ContextVar[dict[str, Order | None] | None] = contextvars.ContextVar(
    "orders_this_run", default=None
)


class OrderFormValidation(FormValidationAction):
    """Base of the order forms; subclasses name themselves and say which orders they can act on."""

    @abc.abstractmethod
    def name(self) -> str:
        """`validate_<form name>`; abstract so the action server does not register the base class."""

    def order_is_actionable(self, order: Order) -> bool:
        """Whether the form should go on for this order; a form for a change ends early when it cannot."""
        return True

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        token = _orders_this_run.set({})
        try:
            return await super().run(dispatcher, tracker, domain)
        except OrderSystemUnavailable as exc:
            logger.warning("conversation=%s order system unavailable in %s: %s", tracker.sender_id, self.name(), exc)
            return [SlotSet("order_system_down", True), SlotSet("requested_slot", None)]
        finally:
            _orders_this_run.reset(token)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if self._gave_up(tracker):
            return []
        order = await self._order(tracker)
        if order is None:
            return list(domain_slots)
        if not self.order_is_actionable(order):
            return []
        if is_verified_for(tracker, order, settings().channel_secret):
            return [slot for slot in domain_slots if slot != "email"]
        if "email" in domain_slots and await verification_attempts().locked(tracker.sender_id, order.number):
            return []
        return list(domain_slots)

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A bare number typed in answer to the question counts even when the NLU saw no entity."""
        if tracker.get_slot("requested_slot") != "order_id" or _has_entity(tracker, "order_id"):
            return {}
        number = find_order_number(tracker.latest_message.get("text") or "")
        return {"order_id": number} if number else {}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "email" or _has_entity(tracker, "email"):
            return {}
        match = EMAIL_PATTERN.search(tracker.latest_message.get("text") or "")
        return {"email": match.group(0)} if match else {}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = order_number_from(value)
        order = await self._lookup(number) if number else None
        if order is not None:
            return {"order_id": order.number, "order_lookup_failures": 0}
        previous = _value_before_latest_message(tracker, "order_id")
        if previous and tracker.get_slot("requested_slot") not in (None, "order_id"):
            return {"order_id": previous}
        failures = int(tracker.get_slot("order_lookup_failures") or 0) + 1
        if number is None:
            dispatcher.utter_message(
                text="That doesn't look like an order number. Order numbers are digits only, like 00123842; "
                "you'll find yours in the confirmation email."
            )
        elif failures < MAX_ATTEMPTS:
            dispatcher.utter_message(
                text=f"I couldn't find an order with the number {number}. Could you check it and type it again? "
                "It's in your order confirmation email."
            )
        return {"order_id": None, "order_lookup_failures": failures}

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        raw = value[0] if isinstance(value, list) and value else value
        email = str(raw).strip() if raw else ""
        order = await self._order(tracker)
        if order is None:
            return {"email": email or None}
        attempts = verification_attempts()
        if await attempts.locked(tracker.sender_id, order.number):
            return {"email": None, "email_failures": MAX_ATTEMPTS}
        if email_matches(order, email):
            return {"email": email, "verified_customer_id": order.customer_id, "email_failures": 0}
        failures = int(tracker.get_slot("email_failures") or 0) + 1
        if email and await attempts.record_failure(tracker.sender_id, order.number):
            return {"email": None, "email_failures": max(failures, MAX_ATTEMPTS)}
        if failures < MAX_ATTEMPTS:
            dispatcher.utter_message(
                text="That email address doesn't match this order. Please give the address you used when you "
                "ordered (it's where the confirmation email went)."
            )
        return {"email": None, "email_failures": failures}

    def _gave_up(self, tracker: Tracker) -> bool:
        return (
            bool(tracker.get_slot("order_system_down"))
            or int(tracker.get_slot("order_lookup_failures") or 0) >= MAX_ATTEMPTS
            or int(tracker.get_slot("email_failures") or 0) >= MAX_ATTEMPTS
        )

    async def _order(self, tracker: Tracker) -> Order | None:
        number = order_number_from(tracker.get_slot("order_id"))
        return await self._lookup(number) if number else None

    async def _lookup(self, number: str) -> Order | None:
        cache = _orders_this_run.get()
        if cache is not None and number in cache:
            return cache[number]
        order = await order_system().get_order(number)
        if cache is not None:
            cache[number] = order
        return order


async def order_in_slot(tracker: Tracker) -> Order | None:
    """The order the `order_id` slot names, or None when it names none (raises `OrderSystemUnavailable`)."""
    number = order_number_from(tracker.get_slot("order_id"))
    return await order_system().get_order(number) if number else None


def _value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message: a number inside an answer to another question (a house
    number in an address) must not replace the order the form is about."""
    after_latest = True
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            after_latest = False
        elif not after_latest and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def _has_entity(tracker: Tracker, entity: str) -> bool:
    return any(e.get("entity") == entity for e in tracker.latest_message.get("entities", []))


class ActionAskOrderId(Action):
    def name(self) -> str:
        return "action_ask_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="Sure. What's your order number? You'll find it in your order confirmation email "
            "(for example 00123842).",
            buttons=[{"title": "I can't find it", "payload": "/contact_human_agent"}],
        )
        return []


class ActionAskEmail(Action):
    def name(self) -> str:
        return "action_ask_email"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="To keep your details private, please tell me the email address you used for this order."
        )
        return []
