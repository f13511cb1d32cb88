"""`action_handoff`: hand the conversation to a person with everything the bot knows.

The hub queues a conversation when a Rasa reply carries `{"custom": {"handoff": packet}}` (docs/architecture.md's
contract). The packet lets an agent pick up without asking the customer to repeat anything.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.order_task import reset_task_slots
from actions.orders.order_system_provider import settings
from actions.verification import vouched_customer_id
from bot.domain.emotion import scorer_for
from bot.domain.escalation import Assessment, rules_for, turns_from_events
from bot.domain.handoff_packet import HandoffPacket
from bot.domain.vocabulary import Priority, Reason, VerifiedBy

logger = logging.getLogger(__name__)

REASON_PRIORITY: dict[str, str] = {
    Reason.EMOTIONAL: Priority.URGENT,
    Reason.COMPLEX: Priority.HIGH,
    Reason.BOT_ERROR: Priority.HIGH,
    Reason.NOT_UNDERSTOOD: Priority.NORMAL,
    Reason.REQUESTED: Priority.NORMAL,
}
INTENT_REASON: dict[str, str] = {
    "complaint": Reason.COMPLEX,
    "contact_human_agent": Reason.REQUESTED,
    "contact_customer_service": Reason.REQUESTED,
}
REASON_PHRASES: dict[str, str] = {
    Reason.REQUESTED: "asked to talk to a person",
    Reason.EMOTIONAL: "is upset",
    Reason.COMPLEX: "has a case the bot should not handle alone",
    Reason.NOT_UNDERSTOOD: "was not understood by the bot",
    Reason.BOT_ERROR: "could not be helped because of a system error",
}
INTENT_PHRASES = {
    "track_order": "track an order",
    "cancel_order": "cancel an order",
    "change_order": "change an order",
    "change_shipping_address": "change a delivery address",
    "check_cancellation_fee": "know the cancellation fee",
    "check_invoice": "see an invoice",
    "get_invoice": "get an invoice",
    "check_payment_methods": "know the payment methods",
    "check_refund_policy": "know the refund policy",
    "complaint": "make a complaint",
    "contact_customer_service": "reach customer service",
    "contact_human_agent": "talk to a person",
    "create_account": "create an account",
    "delete_account": "delete their account",
    "delivery_options": "know the delivery options",
    "delivery_period": "know delivery times",
    "edit_account": "edit their account",
    "get_refund": "get a refund",
    "newsletter_subscription": "manage the newsletter",
    "payment_issue": "sort out a payment problem",
    "place_order": "place an order",
    "recover_password": "recover their password",
    "registration_problems": "fix a sign-up problem",
    "review": "leave a review",
    "set_up_shipping_address": "set up a delivery address",
    "switch_account": "switch account plan",
    "track_refund": "follow a refund",
}
CONVERSATIONAL = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "inform", "nlu_fallback", "out_of_scope"
}  # fmt: skip
SHORT_ANSWERS = {"affirm", "deny", "greet", "goodbye", "thank"}
MAX_HISTORY = 20
MAX_TEXT = 500


def user_turns(tracker: Tracker) -> list[dict[str, Any]]:
    """The customer's messages with what the NLU made of them, oldest first."""
    turns = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        text = str(event.get("text") or "")
        button = text.startswith("/")
        if button:
            text = "(tapped a button)"  # the payload is a name for the bot; the agent reads the intent's title
        turns.append(
            {
                "text": text[:MAX_TEXT],
                "button": button,
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 4),
                "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parse.get("entities") or []],
                "emotion": parse.get("emotion"),
            }
        )
    return turns[-MAX_HISTORY:]


def choose_reason(tracker: Tracker, assessment: Assessment) -> tuple[str, str]:
    """Reason and priority: an accepted offer, then an action's request, then escalation.yml, then the intent."""
    offered = tracker.get_slot("handoff_reason")
    if offered in Reason.words():
        return offered, REASON_PRIORITY[offered]
    if tracker.get_slot("escalation"):
        return Reason.COMPLEX, Priority.HIGH
    if assessment.escalate and assessment.reason in Reason.words() and assessment.priority in Priority.words():
        return assessment.reason, assessment.priority
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    reason = INTENT_REASON.get(intent, Reason.REQUESTED)
    return reason, REASON_PRIORITY[reason]


def build_packet(
    tracker: Tracker, reason: str, priority: str | None = None, assessment: Assessment | None = None
) -> HandoffPacket:
    turns = user_turns(tracker)
    entities: dict[str, list[Any]] = {}
    for turn in turns:
        for entity in turn["entities"]:
            values = entities.setdefault(str(entity["entity"]), [])
            if entity["value"] not in values:
                values.append(entity["value"])
    needs = [t["intent"] for t in turns if t["intent"] and t["intent"] not in CONVERSATIONAL]
    tasks = [intent for intent in needs if intent not in INTENT_REASON]
    signals = [f"reason:{reason}"]
    if tracker.get_slot("handoff_reason"):
        signals.append("accepted_offer")
    if needs and needs[-1] in INTENT_REASON:
        signals.append(f"intent:{needs[-1]}")
    if tracker.get_slot("escalation"):
        signals.append(f"action:{tracker.get_slot('escalation')}")
    signals.extend(s for s in (assessment.signals if assessment else ()) if s not in signals)
    emotion = turns[-1]["emotion"] if turns else None
    return {
        "reason": reason,
        "priority": priority or REASON_PRIORITY[reason],
        "summary": summarise(reason, tasks, tracker.get_slot("order_id"), turns),
        "signals": signals,
        "scores": {k: round(v, 3) for k, v in (assessment.scores if assessment else {}).items()},
        "intents": [
            {"intent": t["intent"], "confidence": t["confidence"], "text": t["text"], "button": t["button"]}
            for t in turns
        ],
        "entities": entities,
        "order_id": tracker.get_slot("order_id"),
        "customer": customer_ids(tracker),
        "emotion": emotion,
        "interrupted_form": tracker.active_loop.get("name") if tracker.active_loop else None,
        "channel": tracker.get_latest_input_channel(),
    }


def summarise(reason: str, needs: list[str], order_id: str | None, turns: list[dict[str, Any]]) -> str:
    wanted = []
    for intent in needs:
        phrase = INTENT_PHRASES.get(intent, intent.replace("_", " "))
        if phrase not in wanted:
            wanted.append(phrase)
    first = f"The customer {REASON_PHRASES[reason]}"
    first += f" after wanting to {', then '.join(wanted[-3:])}" if wanted else ""
    first += f" (order #{order_id})." if order_id else "."
    last = next(
        (t["text"] for t in reversed(turns) if t["text"] and not t["button"] and t["intent"] not in SHORT_ANSWERS), ""
    )
    return f'{first} Last message: "{last[:200]}"' if last else first


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        assessment = rules_for().assess(turns_from_events(tracker.events, scorer_for()))
        reason, priority = choose_reason(tracker, assessment)
        packet = build_packet(tracker, reason, priority, assessment)
        logger.info(
            "handoff conversation=%s reason=%s priority=%s", tracker.sender_id, packet["reason"], packet["priority"]
        )
        dispatcher.utter_message(
            text="I'm bringing in a person from our team. They'll see our conversation so far, so you won't need "
            "to repeat anything."
        )
        dispatcher.utter_message(json_message={"handoff": packet})
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *reset_task_slots(tracker),
            SlotSet("handoff_reason", None),
            SlotSet("wants_human", None),
            SlotSet("escalation", None),
        ]


def customer_ids(tracker: Tracker) -> dict[str, Any]:
    """Who the customer is, as far as the bot knows, and how it knows (the console says so to the agent)."""
    by_email = tracker.get_slot("verified_customer_id")
    vouched = None if by_email else vouched_customer_id(tracker, settings().channel_secret)
    return {
        "verified_customer_id": by_email or vouched,
        "verified_by": VerifiedBy.EMAIL.value if by_email else VerifiedBy.SHOP_LOGIN.value if vouched else None,
        "email": tracker.get_slot("email"),
    }
