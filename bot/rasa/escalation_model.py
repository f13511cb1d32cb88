"""The learned escalation judgement: how upset a message is, in what way, and which topics need a person.

Trained by `make train` (inside Rasa's pipeline, see `bot/rasa/emotion_component.py`) on our own examples in
`data/escalation/` plus the routine examples of `data/nlu/`. Features: the message's MiniLM sentence vector
(`bot/rasa/sentence_vectors.py`), hashed word and character n-grams (spelling, shouting, "!!!"), and the
lexicon cues of `bot/domain/emotion.py`. On top, one logistic regression per question (scikit-learn to fit; the
weights are saved as plain arrays and applied with NumPy, so loading runs no pickled code).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from bot.domain.emotion import EmotionScorer
from bot.rasa.escalation_examples import EMOTIONS, STRENGTHS, TOPICS, Example
from bot.rasa.linear import class_rows, softmax
from bot.rasa.sentence_vectors import Array, SentenceVectors

HASHED_FEATURES = 2**16
MAX_CHARS = 2000
"""Longer messages are judged by their start: bounds the cost of a pasted essay."""
CUES = (
    "shouting",
    "exclamations",
    "profanity",
    "insult",
    "fury",
    "annoyance",
    "asked_again",
    "threat_to_leave",
    "distress",
)
ABSENT = -30.0
TRAINING_PROCESSES = max(1, min(2, os.cpu_count() or 1))
"""Fits at once while training: two cores are what Frontline is measured on, and more buys little here."""
MODEL_FILE = "judgement.npz"
META_FILE = "judgement.json"


@dataclasses.dataclass(frozen=True)
class Judgement:
    """Probabilities for one message."""

    strength: Mapping[str, float]
    emotion: Mapping[str, float]
    topics: Mapping[str, float]
    person: float
    shop: float = 1.0

    @property
    def feeling(self) -> str:
        return max((k for k in self.emotion if k != "none"), key=lambda k: self.emotion[k])


class Featurizer:
    """Text to one row of features; the same at training and at run time."""

    def __init__(self, vectors: SentenceVectors, scorer: EmotionScorer) -> None:
        self._vectors = vectors
        self._scorer = scorer
        self._words = HashingVectorizer(
            n_features=HASHED_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2", lowercase=True
        )
        self._chars = HashingVectorizer(
            n_features=HASHED_FEATURES, analyzer="char_wb", ngram_range=(3, 5), alternate_sign=False, norm="l2"
        )

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        texts = [(text or "")[:MAX_CHARS] for text in texts]
        dense = np.hstack([self._vectors.embed(texts), np.array([self._lexical(t) for t in texts], np.float32)])
        return sparse.hstack(
            [sparse.csr_matrix(dense), self._words.transform(texts), self._chars.transform(texts)],
            format="csr",
            dtype=np.float32,
        )

    def _lexical(self, text: str) -> list[float]:
        score = self._scorer.score(text)
        letters = [c for c in text if c.isalpha()]
        capitals = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 4 else 0.0
        return [
            score.score,
            score.sentiment,
            score.polarity,
            max(score.polarity, 0.0),
            *(float(cue in score.cues) for cue in CUES),
            capitals,
            min(text.count("!"), 5) / 5,
            min(text.count("?"), 5) / 5,
            min(len(text.split()), 60) / 60,
            float(bool(re.search(r"\d", text))),
        ]


class EscalationModel:
    """Weights of the heads; `judge` applies them."""

    def __init__(self, featurizer: Featurizer, heads: Mapping[str, tuple[Array, Array]]) -> None:
        self._featurizer = featurizer
        self._heads = dict(heads)
        # Every head's weights side by side, features first and C-ordered: the sparse product then reads only
        # the rows of the message's few hundred features (a transposed view would copy all of them per call).
        self._weights = np.ascontiguousarray(np.vstack([w for w, _ in self._heads.values()]).T)
        self._bias = np.concatenate([b for _, b in self._heads.values()])
        self._slices: dict[str, slice] = {}
        start = 0
        for name, (_, bias) in self._heads.items():
            self._slices[name] = slice(start, start + len(bias))
            start += len(bias)

    @classmethod
    def train(
        cls,
        featurizer: Featurizer,
        examples: Sequence[Example],
        regularisation: float = 4.0,
        start: EscalationModel | None = None,
    ) -> EscalationModel:
        """Fit every head; from `start`'s weights when given (the previous training), so a small edit to the
        examples converges in fewer iterations."""
        features = featurizer.transform([e.text for e in examples])
        labelled = np.array([e.labelled_feeling for e in examples])
        jobs: dict[str, tuple[sparse.csr_matrix, Array, int]] = {}
        strength = np.array([STRENGTHS.index(e.strength) if e.strength else -1 for e in examples])
        jobs["strength"] = (features[labelled], strength[labelled], len(STRENGTHS))
        emotion = np.array([EMOTIONS.index(e.emotion) if e.emotion else -1 for e in examples])
        jobs["emotion"] = (features[labelled], emotion[labelled], len(EMOTIONS))
        # A trainer's "fine" says no topic needed a person; "needs a person" does not say which topic.
        topical = labelled | np.array([not e.person for e in examples])
        for topic in TOPICS:
            target = np.array([topic in e.topics for e in examples], int)[topical]
            if target.any():
                jobs[f"topic:{topic}"] = (features[topical], target, 2)
        jobs["person"] = (features, np.array([e.person for e in examples], int), 2)
        shop = np.array([e.shop for e in examples], int)
        if not shop.all():
            jobs["shop"] = (features, shop, 2)
        # The heads are independent fits: one process per core, the slowest two first. Same weights as in turn.
        order = sorted(jobs, key=lambda name: -jobs[name][2])
        previous = start._heads if start is not None else {}
        fitted = Parallel(n_jobs=min(TRAINING_PROCESSES, len(order)))(
            delayed(_fit)(jobs[name][0], jobs[name][1], regularisation, jobs[name][2], previous.get(name))
            for name in order
        )
        heads = {name: fitted[order.index(name)] for name in jobs}
        return cls(featurizer, heads)

    def judge(self, texts: Sequence[str]) -> list[Judgement]:
        logits = np.asarray(self._featurizer.transform(texts) @ self._weights) + self._bias
        scores = {name: softmax(logits[:, part]) for name, part in self._slices.items()}
        return [
            Judgement(
                strength=dict(zip(STRENGTHS, map(float, scores["strength"][row]), strict=True)),
                emotion=dict(zip(EMOTIONS, map(float, scores["emotion"][row]), strict=True)),
                topics={t: float(scores[f"topic:{t}"][row][1]) for t in TOPICS if f"topic:{t}" in scores},
                person=float(scores["person"][row][1]),
                shop=float(scores["shop"][row][1]) if "shop" in scores else 1.0,
            )
            for row in range(len(texts))
        ]

    def save(self, folder: Path) -> None:
        arrays = {f"{name}.w": w for name, (w, _) in self._heads.items()}
        arrays |= {f"{name}.b": b for name, (_, b) in self._heads.items()}
        np.savez_compressed(folder / MODEL_FILE, **arrays)
        (folder / META_FILE).write_text(json.dumps({"heads": list(self._heads)}))

    @classmethod
    def load(cls, folder: Path, featurizer: Featurizer) -> EscalationModel:
        names = json.loads((folder / META_FILE).read_text())["heads"]
        with np.load(folder / MODEL_FILE) as arrays:
            heads = {name: (arrays[f"{name}.w"], arrays[f"{name}.b"]) for name in names}
        return cls(featurizer, heads)


def _fit(
    features: sparse.csr_matrix,
    target: Array,
    regularisation: float,
    classes: int = 2,
    start: tuple[Array, Array] | None = None,
) -> tuple[Array, Array]:
    """One logistic regression, as one row of weights per class (a class with no examples never wins).

    Classes are weighted so a rare topic counts as much as the rest. `start` is the head's previous weights.
    """
    model = LogisticRegression(
        C=regularisation, class_weight="balanced", max_iter=3000, solver="lbfgs", warm_start=True
    )
    present = np.unique(target)
    if start is not None and start[0].shape == (classes, features.shape[1]):
        weights, bias = start
        if len(present) == 2:
            model.coef_ = (weights[present[1]] - weights[present[0]])[np.newaxis, :].astype(np.float64)
            model.intercept_ = np.array([bias[present[1]] - bias[present[0]]], np.float64)
        else:
            model.coef_, model.intercept_ = weights[present].astype(np.float64), bias[present].astype(np.float64)
    model.fit(features, target)
    weights, bias = class_rows(model)
    full_weights = np.zeros((classes, features.shape[1]), np.float32)
    full_bias = np.full(classes, ABSENT, np.float32)
    full_weights[model.classes_], full_bias[model.classes_] = weights, bias
    return full_weights, full_bias


def routine_examples(intent_examples: Sequence[tuple[str, str]], skip_intents: set[str]) -> list[Example]:
    """Rasa's NLU examples of everyday needs: calm messages that need no person."""
    return [Example(text) for text, intent in intent_examples if intent not in skip_intents and text.strip()]


def to_json(judgement: Judgement) -> dict[str, Any]:
    return {
        "strength": {k: round(v, 3) for k, v in judgement.strength.items()},
        "emotion": {k: round(v, 3) for k, v in judgement.emotion.items()},
        "topics": {k: round(v, 3) for k, v in judgement.topics.items()},
        "person": round(judgement.person, 3),
        "shop": round(judgement.shop, 3),
    }
