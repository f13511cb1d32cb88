"""How negative a customer's message is, and why: VADER's lexicon plus the cues of customer service.

VADER (vaderSentiment on PyPI, MIT) is a rated lexicon with rules for negation, intensifiers and capitals;
its 7,500 words ship inside the package, so nothing is downloaded at run time, and it scores a message in
well under a millisecond. Shop words it would misread ("cancel", "refund") are made neutral, and the cues
that matter in customer service (shouting, repeated punctuation, profanity, insults, "third time I ask",
threats to leave, distress) are added on top, with the weights of `escalation.yml`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.domain.yaml_file import load_yaml

POLICY_FILE = Path(__file__).resolve().parents[2] / "escalation.yml"
LEVELS = ("none", "mild", "strong")


@dataclasses.dataclass(frozen=True)
class EmotionScore:
    """What the NLU puts in the parse data under `emotion`."""

    score: float
    level: str
    label: str
    cues: tuple[str, ...]
    sentiment: float
    polarity: float = 0.0
    """VADER's compound score, -1 to 1: tells the learned judgement delight from fury (not in the parse data)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 3),
            "level": self.level,
            "label": self.label,
            "cues": list(self.cues),
            "sentiment": round(self.sentiment, 3),
        }


class EmotionScorer:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self._sentiment_weight = float(config["sentiment_weight"])
        self._mild = float(config["mild_threshold"])
        self._strong = float(config["strong_threshold"])
        self._analyzer = SentimentIntensityAnalyzer()
        for word in config.get("neutral_words", []):
            self._analyzer.lexicon.pop(str(word).lower(), None)
        self._max_repeats = int(config.get("max_repeats", 1))
        cues = config["cues"]
        self._weights = {name: float(spec["weight"]) for name, spec in cues.items()}
        self._labels = {name: str(spec["label"]) for name, spec in cues.items()}
        self._patterns = {
            "profanity": phrase_pattern(config["profanity"]),
            "insult": phrase_pattern(config["insults"]),
            "fury": phrase_pattern(config["fury"]),
            "annoyance": phrase_pattern(config["annoyance"]),
            "asked_again": phrase_pattern(config["asked_again"]),
            "threat_to_leave": phrase_pattern(config["threat_to_leave"]),
            "distress": phrase_pattern(config["distress"]),
        }

    def score(self, text: str) -> EmotionScore:
        text = text or ""
        compound = self._analyzer.polarity_scores(text)["compound"] if text.strip() else 0.0
        sentiment = max(0.0, -compound)
        found = {name: len({m.lower() for m in pattern.findall(text)}) for name, pattern in self._patterns.items()}
        cues = [name for name, count in found.items() if count]
        if len(re.findall(r"\b[A-Z]{3,}\b", text)) >= 3 or _mostly_capitals(text):
            cues.append("shouting")
        if re.search(r"(!\s*){2,}|\?\s*!|!\s*\?", text):
            cues.append("exclamations")
        raw = sentiment * self._sentiment_weight + sum(
            self._weights[c] * min(found.get(c, 1), self._max_repeats) for c in cues
        )
        total = min(1.0, round(raw, 6))
        level = "strong" if total >= self._strong else "mild" if total >= self._mild else "none"
        return EmotionScore(total, level, self._label(cues, level), tuple(cues), sentiment, compound)

    def _label(self, cues: Iterable[str], level: str) -> str:
        if level == "none":
            return "neutral"
        labels = [self._labels[c] for c in cues]
        for label in ("distress", "anger", "frustration"):
            if label in labels:
                return label
        return "negative"


def load_policy(path: Path = POLICY_FILE) -> dict[str, Any]:
    policy = load_yaml(path)
    if not isinstance(policy, dict):
        raise ValueError(f"{path} must hold a mapping of settings")
    return policy


@functools.lru_cache(maxsize=4)
def scorer_for(path: str = str(POLICY_FILE)) -> EmotionScorer:
    return EmotionScorer(load_policy(Path(path))["emotion"])


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of the phrases as whole words ("hell" not in "hello")."""
    alternatives = sorted((re.escape(str(p).lower()).replace(r"\ ", r"\s+") for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])", re.IGNORECASE)


def _mostly_capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
