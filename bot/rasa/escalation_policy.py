"""Rasa dialogue policy: after each customer message, bring in a person or acknowledge feelings.

It applies escalation.yml (through `bot.domain.escalation.assess`) and, when it speaks, overrules the other
policies and any active form: strong anger or distress, negativity twice in a row, a high-stakes topic,
several problems at once or the same need asked again predict `action_handoff`; mild negativity predicts
`action_acknowledge_feelings`, which says so and then reverts itself, so the usual answer follows as if
nothing had been inserted. An action can also ask for a handoff by setting the slot `escalation` (a
high-value order). Otherwise it abstains.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain.emotion import POLICY_FILE, scorer_for
from bot.domain.escalation import rules_for, turns_from_events

HANDOFF = "action_handoff"
ACKNOWLEDGE = "action_acknowledge_feelings"
ESCALATION_SLOT = "escalation"
RECENT_EVENTS = 200


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
class EscalationPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7, "policy_file": str(POLICY_FILE)}

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_DATA

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._rules = rules_for(config["policy_file"])
        self._scorer = scorer_for(config["policy_file"])

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self._decide(tracker)
        probabilities = self._default_predictions(domain)
        if action is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)

    def _decide(self, tracker: DialogueStateTracker) -> str | None:
        if tracker.latest_action_name == HANDOFF:
            # The conversation is the people's now: the bot waits, whichever policy chose the handoff. Left to
            # TED, a model trained from scratch once guessed the core fallback here.
            return str(ACTION_LISTEN_NAME)
        if tracker.get_slot(ESCALATION_SLOT):
            return HANDOFF
        if tracker.latest_action_name != ACTION_LISTEN_NAME or _acted_since_last_message(tracker):
            return None
        events = [e.as_dict() for e in list(tracker.events)[-RECENT_EVENTS:]]
        assessment = self._rules.assess(turns_from_events(events, self._scorer))
        if assessment.escalate:
            return HANDOFF
        if assessment.acknowledge:
            return ACKNOWLEDGE
        return None


def _acted_since_last_message(tracker: DialogueStateTracker) -> bool:
    """Whether an action already ran for the latest message (the acknowledgement reverts itself)."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return True
    return False
