"""Rasa NLU component: every parsed message gets an `emotion` (score, level, label, cues) in its output.

In config.yml's pipeline; the scores appear in `/model/parse`, in the tracker's parse data (so actions and
the escalation policy read them) and in the handoff packet. The rules and weights live in escalation.yml,
read when Rasa loads the model.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.emotion import POLICY_FILE, EmotionScorer, scorer_for

EMOTION = "emotion"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmotionClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"policy_file": str(POLICY_FILE)}

    def __init__(self, scorer: EmotionScorer) -> None:
        self._scorer = scorer

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmotionClassifier:
        return cls(scorer_for(config["policy_file"]))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            message.set(EMOTION, self._scorer.score(message.get(TEXT) or "").to_json(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
