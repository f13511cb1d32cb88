"""Rasa NLU component: the intent and the ranking of every message, from `bot/rasa/intent_model.py`.

In config.yml's pipeline in place of DIET. It reads the message's text only, so it needs no featurizer
before it; entities are the CRF's job. Its probabilities are calibrated differently from DIET's (spread
over 35 intents), which is why FallbackClassifier's threshold in config.yml is low (README's table).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa import warm_start
from bot.rasa.intent_model import IntentModel
from bot.rasa.sentence_vectors import SentenceVectors

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"word_ngrams": 2, "char_ngrams": 5, "meaning_weight": 1.5, "regularisation": 30.0, "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model: IntentModel | None = None,
        storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model = model
        self._storage = storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, storage=model_storage, resource=resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                model = IntentModel.load(folder, SentenceVectors.load(folder))
        except (ValueError, FileNotFoundError) as error:
            logger.warning("no trained intent classifier in the model (%s): no intents", error)
            model = None
        return cls(config, model, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        assert self._storage is not None and self._resource is not None, "created by Rasa to train"
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        vectors = SentenceVectors.from_package()
        settings = {k: self._config[k] for k in ("word_ngrams", "char_ngrams", "meaning_weight", "regularisation")}
        texts, intents = [m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples]
        start = warm_start.previous("intents", lambda folder: IntentModel.load(folder, vectors))
        self._model = IntentModel.train(vectors, texts, intents, settings, start)
        with self._storage.write_to(self._resource) as folder:
            vectors.save(folder)
            self._model.save(folder)
        with warm_start.remembered("intents") as folder:
            self._model.save(folder)
        logger.info("intent classifier trained on %d examples of %d intents", len(examples), len(self._model.intents))
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None or not messages:
            return messages
        probabilities = self._model.rank([m.get(TEXT) or "" for m in messages])
        length = int(self._config["ranking_length"]) or len(self._model.intents)
        for message, row in zip(messages, probabilities, strict=True):
            order = np.argsort(-row, kind="stable")
            ranking = [{"name": self._model.intents[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
