"""Newsletter subscribe and unsubscribe, stored in the order system."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.order_form import EMAIL_PATTERN
from actions.order_task import apologise_order_system_down, reset_task_slots
from actions.orders.order_system import OrderSystemUnavailable
from actions.orders.order_system_provider import order_system

logger = logging.getLogger(__name__)

_UNSUBSCRIBE = re.compile(
    r"\b(un-?subscrib\w*|opt(ing)?[- ]?out|stop\w*|remove|cancel\w*|no longer|don'?t want|do not want|"
    r"leave|quit|unsign|take me off|get off|end)\b",
    re.IGNORECASE,
)
_SUBSCRIBE = re.compile(
    r"\b(subscrib\w*|sign(ing)? ?(me )?up|join|opt(ing)?[- ]?in|register|add me|get)\b", re.IGNORECASE
)


def newsletter_choice(text: str) -> str | None:
    """Which way the customer wants it, when the words say so."""
    if _UNSUBSCRIBE.search(text):
        return "unsubscribe"
    if _SUBSCRIBE.search(text):
        return "subscribe"
    return None


class ValidateNewsletterForm(FormValidationAction):
    def name(self) -> str:
        return "validate_newsletter_form"

    async def extract_newsletter_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("newsletter_choice"):
            return {}
        choice = newsletter_choice(str(tracker.latest_message.get("text") or ""))
        return {"newsletter_choice": choice} if choice else {}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "email":
            return {}
        match = EMAIL_PATTERN.search(str(tracker.latest_message.get("text") or ""))
        return {"email": match.group(0)} if match else {}

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        raw = value[0] if isinstance(value, list) and value else value
        match = EMAIL_PATTERN.fullmatch(str(raw or "").strip())
        if match is None:
            dispatcher.utter_message(text="That doesn't look like an email address. Could you type it again?")
            return {"email": None}
        return {"email": match.group(0)}


class ActionAskNewsletterChoice(Action):
    def name(self) -> str:
        return "action_ask_newsletter_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="Would you like to subscribe to our newsletter or unsubscribe from it?",
            buttons=[
                {"title": "Subscribe", "payload": "Subscribe me to the newsletter"},
                {"title": "Unsubscribe", "payload": "Unsubscribe me from the newsletter"},
            ],
        )
        return []


class ActionAskNewsletterEmail(Action):
    def name(self) -> str:
        return "action_ask_newsletter_form_email"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="Which email address should I use?")
        return []


class ActionUpdateNewsletter(Action):
    def name(self) -> str:
        return "action_update_newsletter"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        email, choice = tracker.get_slot("email"), tracker.get_slot("newsletter_choice")
        if not email or choice not in {"subscribe", "unsubscribe"}:
            dispatcher.utter_message(text="I didn't change anything about the newsletter.")
            return reset_task_slots(tracker)
        try:
            await order_system().set_newsletter(email, subscribed=choice == "subscribe")
        except OrderSystemUnavailable as exc:
            logger.warning("conversation=%s newsletter update failed: %s", tracker.sender_id, exc)
            return reset_task_slots(tracker) + apologise_order_system_down(dispatcher)
        if choice == "subscribe":
            text = (
                f"Done: {email} is subscribed to our newsletter. "
                "You can unsubscribe any time, here or from any newsletter."
            )
        else:
            text = f"Done: {email} is unsubscribed. You won't get any more newsletters from us."
        dispatcher.utter_message(text=text)
        return reset_task_slots(tracker)
