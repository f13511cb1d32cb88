"""`action_acknowledge_feelings`: a short, human acknowledgement when a customer is mildly upset.

The escalation policy runs it before the usual answer. It reverts itself (ActionReverted), so the dialogue
carries on exactly as if it had not been there: the customer gets the empathy line, then the answer. The
line fits the feeling and changes each time in a conversation (the same apology twice reads like a
machine); a "Talk to a person" button keeps a person one tap away.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionReverted, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.human_offer import PERSON_BUTTON

NAME = "action_acknowledge_feelings"
LINES = {
    "frustration": (
        "I'm sorry this is taking so long. Let's get it sorted now.",
        "That does sound like a hassle, sorry. Let me sort it out.",
        "Fair enough, that's annoying. Here's what I can do.",
        "Sorry you've had to chase this. Let's fix it.",
    ),
    "anger": (
        "I'm sorry about this, I can see why you're upset. Let me help.",
        "That's not how it should have gone, and I'm sorry. Let's put it right.",
        "I understand you're unhappy, and you have every reason to ask. Here's what I can do.",
        "Sorry, that's frustrating to deal with. Let me take care of it.",
    ),
    "distress": (
        "I'm sorry you're going through this. I'll do what I can right away.",
        "That sounds stressful, I'm sorry. Let's get this moving.",
        "I understand this matters a lot to you. I'm on it.",
        "Sorry for the worry. Let me check straight away.",
    ),
}
DEFAULT_LINES = (
    "I'm sorry about the trouble. Let me help.",
    "Sorry about that. Let's get it sorted.",
    "I hear you, sorry for the hassle. Here's what I can do.",
)
PERSON_HINTS = (
    " If you'd rather talk to a person, just say so.",
    " You can talk to a person any time, too.",
    " A person from our team is one tap away if you prefer.",
)


class ActionAcknowledgeFeelings(Action):
    def name(self) -> str:
        return NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        emotion = (tracker.latest_message or {}).get("emotion") or {}
        lines = LINES.get(str(emotion.get("label")), DEFAULT_LINES)
        said_before = sum(1 for e in tracker.events if e.get("event") == "action" and e.get("name") == NAME)
        text = lines[said_before % len(lines)] + PERSON_HINTS[said_before % len(PERSON_HINTS)]
        dispatcher.utter_message(text=text, buttons=[PERSON_BUTTON])
        return [ActionReverted()]
