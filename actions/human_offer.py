"""Offering a person: the bot asks "shall I bring in a person?" and the customer answers yes or no.

The question is a one-slot form (`human_offer_form`, slot `wants_human`) that any action can open by
returning `offer_person(reason)`; rules send a yes to `action_handoff` with that reason and a no to
`utter_offer_declined`. Opening the offer clears the previous answer, so a no is never remembered.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

PERSON_BUTTON = {"title": "Talk to a person", "payload": "/contact_human_agent"}
"""The button every message that mentions a person carries, so a person is one tap away, never a sentence away."""
YES_NO_BUTTONS = [
    {"title": "Yes, a person please", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]


def offer_person(reason: str) -> list[EventType]:
    """Events that open the offer; `reason` is the handoff reason used if the customer says yes."""
    return [SlotSet("handoff_reason", reason), SlotSet("wants_human", None), ActiveLoop("human_offer_form")]


class ActionAskWantsHuman(Action):
    def name(self) -> str:
        return "action_ask_wants_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="Would you like me to bring in a person from our team? They'll see this conversation, so you "
            "won't have to repeat anything.",
            buttons=YES_NO_BUTTONS,
        )
        return []
