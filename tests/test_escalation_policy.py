"""The escalation policy speaks only right after a customer message, and then overrules the others."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionReverted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain.emotion import scorer_for
from bot.rasa.escalation_policy import EscalationPolicy
from tests.rasa_stack import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def policy(tmp_path):
    return EscalationPolicy.create(
        EscalationPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("escalation"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def said(text, intent="track_order"):
    parse = {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
        "emotion": scorer_for().score(text).to_json(),
    }
    return [ActionExecuted("action_listen"), UserUttered(text, parse_data=parse, intent=parse["intent"])]


def predicted(policy, events):
    tracker = DialogueStateTracker.from_events("c", events, DOMAIN.slots)
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    if prediction.max_confidence == 0:
        return None
    return DOMAIN.action_names_or_texts[prediction.max_confidence_index], prediction


def test_an_angry_message_is_handed_over_and_overrules_forms(policy):
    action, prediction = predicted(policy, said("I AM FURIOUS, THIS IS USELESS!!! never ordering again"))
    assert action == "action_handoff"
    assert prediction.is_no_user_prediction and prediction.policy_priority == 7


def test_a_mildly_upset_message_is_acknowledged_once(policy):
    events = said("ugh this is annoying, where is my order 00123842")
    assert predicted(policy, events)[0] == "action_acknowledge_feelings"
    after = [*events, ActionExecuted("action_acknowledge_feelings"), BotUttered("sorry"), ActionReverted()]
    assert predicted(policy, after) is None


def test_calm_messages_and_later_steps_are_left_to_the_other_policies(policy):
    assert predicted(policy, said("where is my order 00123842")) is None
    angry_then_acted = [*said("THIS IS RIDICULOUS!!! USELESS"), ActionExecuted("track_order_form")]
    assert predicted(policy, angry_then_acted) is None


def test_an_action_can_ask_for_a_person_through_the_escalation_slot(policy):
    events = [
        *said("refund order 00500500", "get_refund"),
        ActionExecuted("action_request_refund"),
        SlotSet("escalation", "high_value_order"),
    ]
    assert predicted(policy, events)[0] == "action_handoff"


def test_after_a_handoff_the_bot_waits_for_the_customer(policy):
    angry = said("I AM FURIOUS, THIS IS USELESS!!! never ordering again")
    assert predicted(policy, [*angry, ActionExecuted("action_handoff")])[0] == "action_listen"
    asked = [*said("a person please", "contact_human_agent"), ActionExecuted("action_handoff")]
    assert predicted(policy, asked)[0] == "action_listen", "whichever policy chose the handoff"
