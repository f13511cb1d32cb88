"""The action that runs when an order form ends: it does the task, or explains why it cannot.

Every order task has the same ways to go wrong (number not found twice, email not matching twice, too many
wrong emails for the order or conversation, order system down) and the same way out: say so plainly and offer
a person. They live here once.
"""

from __future__ import annotations

import abc
import logging
from decimal import Decimal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.human_offer import offer_person
from actions.order_form import MAX_ATTEMPTS, order_in_slot
from actions.orders.order_messages import money
from actions.orders.order_system import Order, OrderNotFound, OrderSystemUnavailable
from actions.orders.order_system_provider import settings
from actions.orders.verification_attempts import verification_attempts
from actions.verification import email_matches, is_verified_for
from bot.domain.escalation import rules_for

logger = logging.getLogger(__name__)

TASK_SLOTS = (
    "order_lookup_failures",
    "email_failures",
    "order_system_down",
    "cancel_confirmed",
    "product",
    "refund_items",
    "refund_confirmed",
    "shipping_address",
    "address_confirmed",
    "newsletter_choice",
    "review_rating",
    "review_text",
)


def reset_task_slots(tracker: Tracker) -> list[EventType]:
    """Clear what one task collected, keeping the order number, email and verification for the next one.

    Only slots that hold something are cleared: every event is stored and sent back with each action call,
    so a long conversation should not carry a dozen no-op events per turn.
    """
    events = []
    for name in TASK_SLOTS:
        empty = 0 if name.endswith("_failures") else None
        if tracker.get_slot(name) not in (None, empty):
            events.append(SlotSet(name, empty))
    return events


def is_high_value(order: Order) -> bool:
    """Worth more than escalation.yml's `high_value_order`: a person changes it, not the bot."""
    return order.total > Decimal(str(rules_for().high_value_order))


def apologise_order_system_down(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(
        text="I'm sorry, I can't reach our order system right now, so I can't check or change orders at the moment."
    )
    return offer_person("bot_error")


class OrderTaskAction(Action, abc.ABC):
    """Base of the actions that submit an order form."""

    changes_order = False
    """Cancels, refunds and address changes; on orders worth more than escalation.yml's
    `high_value_order` a person does them instead."""

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        """Do the task for a found order (verified, where `requires_verification_for` says it must be)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            events = await self._run(dispatcher, tracker)
        except OrderSystemUnavailable as exc:
            logger.warning("conversation=%s order system unavailable in %s: %s", tracker.sender_id, self.name(), exc)
            events = apologise_order_system_down(dispatcher)
        return reset_task_slots(tracker) + events

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if tracker.get_slot("order_system_down"):
            return apologise_order_system_down(dispatcher)
        order = await order_in_slot(tracker)
        if order is None:
            if int(tracker.get_slot("order_lookup_failures") or 0) >= MAX_ATTEMPTS:
                dispatcher.utter_message(
                    text="I still can't find that order number. A person from our team can look your order up "
                    "by your name or email address instead."
                )
                return offer_person("not_understood")
            dispatcher.utter_message(
                text="I need your order number for that. You'll find it in your confirmation email."
            )
            return []
        verified = is_verified_for(tracker, order, settings().channel_secret)
        attempts = verification_attempts()
        locked = not verified and await attempts.locked(tracker.sender_id, order.number)
        verification: list[EventType] = []
        email = tracker.get_slot("email")
        if not verified and not locked and email:
            if email_matches(order, email):
                verified, verification = True, [SlotSet("verified_customer_id", order.customer_id)]
            elif self.requires_verification_for(order):  # an address the form did not check still counts
                locked = await attempts.record_failure(tracker.sender_id, order.number)
        if locked and self.requires_verification_for(order):
            dispatcher.utter_message(
                text="I'm sorry, I've stopped checking email addresses for this order for now: too many didn't "
                "match, and that's how we keep orders safe from guessing. A person from our team can confirm "
                "who you are another way."
            )
            return offer_person("complex")
        if not verified and self.requires_verification_for(order):
            dispatcher.utter_message(
                text="I couldn't confirm that this order is yours: the email address didn't match. For your security "
                "I can't share or change its details here, but a person from our team can check who you are."
            )
            return offer_person("complex")
        if self.changes_order and self.requires_verification_for(order) and is_high_value(order):
            dispatcher.utter_message(
                text=f"Order #{order.number} is worth {money(order.total, order.currency)}, so a person from our team "
                "will take care of this for you, to be sure it's done right. I'm passing you over now."
            )
            return [*verification, SlotSet("escalation", "high_value_order")]
        try:
            return verification + await self.act(dispatcher, tracker, order, verified)
        except OrderNotFound:
            dispatcher.utter_message(text=f"Order #{order.number} can no longer be found in our system.")
            return offer_person("complex")

    def requires_verification_for(self, order: Order) -> bool:
        """Whether this task needs the customer verified for this particular order."""
        return True
