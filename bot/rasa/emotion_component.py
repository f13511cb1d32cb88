"""Rasa NLU component: every parsed message gets the escalation judgement in its output.

In config.yml's pipeline. `rasa train` trains it on `data/escalation/` (our own examples and trainers'
labels) plus the routine examples of the NLU data, and stores the learned weights in the model. Each message
then carries:
- `emotion`: score, level (none/mild/strong), label (anger/frustration/distress), the learned
  probabilities, and the lexicon's cues (escalation.yml);
- `judgement`: the probability of each topic that needs a person, of "a person should step in", and that the
  message is about something the shop can help with (`shop`).
They appear in `/model/parse`, in the tracker's parse data (the escalation policy and the actions read
them) and in the handoff packet. Thresholds live in escalation.yml, read when Rasa loads the model.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.domain.emotion import POLICY_FILE, EmotionScorer, load_policy, scorer_for
from bot.rasa import warm_start
from bot.rasa.escalation_examples import EXAMPLES_DIR, fingerprint, load_examples
from bot.rasa.escalation_model import EscalationModel, Featurizer, Judgement, routine_examples, to_json
from bot.rasa.sentence_vectors import SentenceVectors

logger = logging.getLogger(__name__)

EMOTION = "emotion"
JUDGEMENT = "judgement"
HANDOFF_INTENTS = {"complaint", "contact_human_agent", "contact_customer_service"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EmotionClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"policy_file": str(POLICY_FILE), "examples": str(EXAMPLES_DIR)}

    def __init__(
        self,
        scorer: EmotionScorer,
        model: EscalationModel | None = None,
        *,
        config: dict[str, Any] | None = None,
        storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        self._scorer = scorer
        self._model = model
        self._config = config or self.get_default_config()
        self._storage = storage
        self._resource = resource
        self._thresholds = load_policy(Path(self._config["policy_file"]))["judgement"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmotionClassifier:
        return cls(scorer_for(config["policy_file"]), config=config, storage=model_storage, resource=resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EmotionClassifier:
        scorer = scorer_for(config["policy_file"])
        try:
            with model_storage.read_from(resource) as folder:
                model = EscalationModel.load(folder, Featurizer(SentenceVectors.load(folder), scorer))
        except (ValueError, FileNotFoundError) as error:
            logger.warning("no trained escalation judgement in the model (%s): the lexicon alone scores", error)
            model = None
        return cls(scorer, model, config=config, storage=model_storage, resource=resource)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The example files and the lexicon's settings (its scores are features): Rasa's cache sees neither."""
        lexicon = load_policy(Path(config.get("policy_file", POLICY_FILE)))["emotion"]
        return fingerprint(Path(config.get("examples", EXAMPLES_DIR))) + json.dumps(lexicon, sort_keys=True)

    def train(self, training_data: TrainingData) -> Resource:
        assert self._storage is not None and self._resource is not None, "created by Rasa to train"
        routine = routine_examples(
            [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples], HANDOFF_INTENTS
        )
        examples = load_examples(Path(self._config["examples"]))
        vectors = SentenceVectors.from_package()
        featurizer = Featurizer(vectors, self._scorer)
        start = warm_start.previous("judgement", lambda folder: EscalationModel.load(folder, featurizer))
        self._model = EscalationModel.train(featurizer, [*examples, *routine], start=start)
        with self._storage.write_to(self._resource) as folder:
            vectors.save(folder)
            self._model.save(folder)
        with warm_start.remembered("judgement") as folder:
            self._model.save(folder)
        logger.info("escalation judgement trained on %d examples and %d routine messages", len(examples), len(routine))
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [message.get(TEXT) or "" for message in messages]
        judgements = self._model.judge(texts) if self._model else [None] * len(texts)
        for message, text, judgement in zip(messages, texts, judgements, strict=True):
            emotion = self._scorer.score(text).to_json()
            if judgement is not None:
                emotion = combine(emotion, judgement, self._thresholds)
                learned = to_json(judgement)
                message.set(JUDGEMENT, {k: learned[k] for k in ("topics", "person", "shop")}, add_to_output=True)
            message.set(EMOTION, emotion, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def combine(lexicon: dict[str, Any], judgement: Judgement, thresholds: dict[str, Any]) -> dict[str, Any]:
    """The learned strength decides whether a feeling is strong. Mild is what either judge finds: the lexicon
    knows words (and catches anger in writing unlike ours), the model knows shop talk and sarcasm."""
    strong, mild = judgement.strength["strong"], judgement.strength["mild"]
    if strong >= float(thresholds["strong_emotion"]):
        level = "strong"
    elif strong + mild >= float(thresholds["mild_emotion"]) or lexicon["level"] != "none":
        level = "mild"
    else:
        level = "none"
    learned = to_json(judgement)
    return {
        "score": round(strong + mild / 2, 3),
        "level": level,
        "label": judgement.feeling if level != "none" else "neutral",
        "cues": lexicon["cues"],
        "sentiment": lexicon["sentiment"],
        "strength": learned["strength"],
        "kinds": learned["emotion"],
        "lexicon": lexicon["score"],
    }
