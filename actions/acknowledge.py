"""`action_acknowledge_feelings`: a short, human acknowledgement when a customer is mildly upset.

The escalation policy runs it before the usual answer. It reverts itself (ActionReverted), so the dialogue
carries on exactly as if it had not been there: the customer gets the empathy line, then the answer.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionReverted, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

LINES = {
    "frustration": "I'm sorry this is taking so long. Let's get it sorted now.",
    "anger": "I'm sorry about this, I can see why you're upset. Let me help.",
    "distress": "I'm sorry you're going through this. I'll do what I can right away.",
}
DEFAULT_LINE = "I'm sorry about the trouble. Let me help."
PERSON_HINT = " If you'd rather talk to a person, just say so."


class ActionAcknowledgeFeelings(Action):
    def name(self) -> str:
        return "action_acknowledge_feelings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        emotion = (tracker.latest_message or {}).get("emotion") or {}
        dispatcher.utter_message(text=LINES.get(str(emotion.get("label")), DEFAULT_LINE) + PERSON_HINT)
        return [ActionReverted()]
