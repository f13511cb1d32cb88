"""When the bot is not getting it: say what it can do, and after a second miss in a row offer a person.

A miss is `nlu_fallback` (the FallbackClassifier was unsure) or `out_of_scope` (the model recognised a
question no shop answers). The first miss is answered by a rule with `utter_what_i_can_do`; a rule sends a
miss right after that answer to `action_fallback`. `action_core_fallback` answers when no policy is sure
what to do next, so the customer never meets silence; like Rasa's own default fallback it then takes the message
back (`UserUtteranceReverted`), or the unsure policies would predict it again and again until Rasa's circuit
breaker stops the turn (ten answers in one turn, then silence: seen in the soak).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.human_offer import offer_person


class ActionFallback(Action):
    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="I'm sorry, I'm still not understanding what you need.")
        return offer_person("not_understood")


class ActionCoreFallback(Action):
    def name(self) -> str:
        return "action_core_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_what_i_can_do")
        return [UserUtteranceReverted()]
