"""Reviews: a rating from 1 to 5 and a comment, stored in the order system."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.human_offer import offer_person
from actions.order_task import apologise_order_system_down, reset_task_slots
from actions.orders.order_system import ActionRefused, OrderSystemUnavailable
from actions.orders.order_system_provider import order_system

logger = logging.getLogger(__name__)

MAX_REVIEW_LENGTH = 2000
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def parse_rating(text: str) -> int | None:
    """A rating from '4', '4/5', 'four stars' or '★★★★'."""
    stars = text.count("★") + text.count("⭐")
    if 1 <= stars <= 5:
        return stars
    match = re.search(r"(?<!\d)([1-5])(?:\s*(?:/|out of)\s*5)?(?!\d)", text)
    if match:
        return int(match.group(1))
    for word, value in _WORDS.items():
        if re.search(rf"\b{word}\b", text, re.IGNORECASE):
            return value
    return None


class ValidateReviewForm(FormValidationAction):
    def name(self) -> str:
        return "validate_review_form"

    async def extract_review_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "review_rating":
            return {}
        rating = parse_rating(str(tracker.latest_message.get("text") or ""))
        if rating is None:
            dispatcher.utter_message(text="Please pick a number from 1 (poor) to 5 (excellent).")
            return {}
        return {"review_rating": float(rating)}

    async def validate_review_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not text:
            dispatcher.utter_message(text="Could you write a few words about your experience?")
            return {"review_text": None}
        if len(text) > MAX_REVIEW_LENGTH:
            dispatcher.utter_message(
                text=f"Thanks! That's more than the {MAX_REVIEW_LENGTH} characters a review can hold, so I've kept "
                "the first part."
            )
            text = text[:MAX_REVIEW_LENGTH]
        return {"review_text": text}


class ActionAskReviewRating(Action):
    def name(self) -> str:
        return "action_ask_review_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="We'd love your feedback! How would you rate us, from 1 (poor) to 5 (excellent)?",
            buttons=[{"title": f"{n} {'★' * n}", "payload": str(n)} for n in range(5, 0, -1)],
        )
        return []


class ActionAskReviewText(Action):
    def name(self) -> str:
        return "action_ask_review_text"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="Thank you! Tell us a little about your experience: what went well, and what could we do better?"
        )
        return []


class ActionSaveReview(Action):
    def name(self) -> str:
        return "action_save_review"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        rating = int(tracker.get_slot("review_rating") or 0)
        text = tracker.get_slot("review_text") or ""
        try:
            await order_system().add_review(
                rating, text, customer_id=tracker.get_slot("verified_customer_id"), order_number=None
            )
        except ActionRefused as refused:
            dispatcher.utter_message(text=f"I couldn't save the review: {refused.message}")
            return reset_task_slots(tracker)
        except OrderSystemUnavailable as exc:
            logger.warning("conversation=%s review not saved: %s", tracker.sender_id, exc)
            return reset_task_slots(tracker) + apologise_order_system_down(dispatcher)
        if rating <= 2:
            dispatcher.utter_message(
                text="Thank you for telling us, and I'm sorry we let you down. Your review is saved and our team reads "
                "every one."
            )
            return reset_task_slots(tracker) + offer_person("complex")
        dispatcher.utter_message(text="Thank you! Your review is saved; it really helps us and other customers.")
        return reset_task_slots(tracker)
