"""Should a person take over now, and why? The rules of `escalation.yml` applied to a conversation.

One function, `assess`, used by the dialogue policy (to decide) and by `action_handoff` (to tell the agent
which signals fired), so the two can never disagree. It works on `Turn`s, which both Rasa's tracker and
the action server's tracker are turned into.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.domain.emotion import POLICY_FILE, EmotionScorer, load_policy, phrase_pattern

HANDOFF_INTENTS = {"complaint", "contact_human_agent", "contact_customer_service"}
NOT_AN_ANSWER = re.compile(
    r"^(action_listen|action_session_start|action_extract_slots|action_ask_.*|utter_ask_.*|validate_.*|.*_form|action_acknowledge_feelings)$"
)


@dataclasses.dataclass(frozen=True)
class Turn:
    """One customer message (with the entity values the NLU found) and what the bot did until the next one."""

    text: str
    intent: str | None
    emotion: Mapping[str, Any] | None
    answered_by: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    judgement: Mapping[str, Any] | None = None
    confidence: float = 1.0
    """The intent's; a quiet intent the classifier is unsure of is not taken for politeness."""

    @property
    def topics(self) -> Mapping[str, float]:
        return (self.judgement or {}).get("topics") or {}

    @property
    def person(self) -> float | None:
        return (self.judgement or {}).get("person")

    @property
    def shop(self) -> float:
        """How sure the model is that the message is about something the shop can help with (1.0 if unknown)."""
        return float((self.judgement or {}).get("shop", 1.0))

    @property
    def level(self) -> str:
        return str((self.emotion or {}).get("level", "none"))

    @property
    def answered(self) -> bool:
        return any(not NOT_AN_ANSWER.match(name) for name in self.answered_by)


@dataclasses.dataclass(frozen=True)
class Assessment:
    escalate: bool
    reason: str | None
    priority: str | None
    acknowledge: bool
    signals: tuple[str, ...]
    scores: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """The learned probability behind a signal, where it has one, so the agent sees how sure the bot was."""


@dataclasses.dataclass(frozen=True)
class TopicRule:
    threshold: float
    priority: str
    handoff: bool


class EscalationRules:
    def __init__(self, config: Mapping[str, Any], judgement: Mapping[str, Any] | None = None) -> None:
        judgement = judgement or {}
        self.strong_emotion = float(judgement.get("strong_emotion", 0.5))
        self.needs_person = float(judgement.get("needs_person", 0.5))
        self.about_shop = float(judgement.get("about_shop", 0.5))
        self.review_margin = float(judgement.get("review_margin", 0.15))
        self.topics = {
            name: TopicRule(float(spec["threshold"]), str(spec["priority"]), spec.get("action", "handoff") == "handoff")
            for name, spec in (judgement.get("topics") or {}).items()
        }
        self._negative_run = int(config["negative_turns_in_a_row"])
        self._quiet = set(config.get("quiet_intents", ()))
        self._quiet_confidence = float(config.get("quiet_min_confidence", 0.0))
        self._window = int(config["repeated_need_window"])
        self._repeatable = set(config["repeatable_needs"])
        self._several = int(config["several_problems"])
        self._areas = {name: phrase_pattern(phrases) for name, phrases in config["problem_areas"].items()}
        self._stakes = {
            topic: (str(spec["priority"]), phrase_pattern(spec["phrases"]))
            for topic, spec in config["high_stakes"].items()
        }
        self.high_value_order = float(config["high_value_order"])

    def assess(self, turns: Sequence[Turn]) -> Assessment:
        if not turns:
            return Assessment(False, None, None, False, ())
        latest = turns[-1]
        signals: list[str] = []
        scores: dict[str, float] = {}
        reason, priority = None, None
        topic_acknowledged = False

        def escalate(new_reason: str, new_priority: str) -> None:
            nonlocal reason, priority
            if priority is None or _rank(new_priority) < _rank(priority):
                reason, priority = new_reason, new_priority

        emotion = latest.emotion or {}
        about_shop = latest.shop >= self.about_shop
        if latest.level == "strong":
            signals.append(f"emotion:strong:{emotion.get('label')}")
            strong = (emotion.get("strength") or {}).get("strong")
            if strong is not None:
                scores[signals[-1]] = float(strong)
            if about_shop:
                escalate("emotional", "urgent")
            else:
                signals.append("not_about_the_shop")
                scores["not_about_the_shop"] = 1.0 - latest.shop
        for topic, probability in sorted(latest.topics.items(), key=lambda item: -item[1]):
            rule = self.topics.get(topic)
            if rule is None or probability < rule.threshold:
                continue
            signals.append(f"topic:{topic}")
            scores[signals[-1]] = float(probability)
            if rule.handoff:
                escalate("complex", rule.priority)
            else:
                topic_acknowledged = True
        run = self._negative_run
        if len(turns) >= run and all(self._negative(t) for t in turns[-run:]):
            signals.append(f"negative_turns:{run}")
            escalate("emotional", "high")
        for topic, (topic_priority, pattern) in self._stakes.items():
            if pattern.search(latest.text):
                signals.append(f"high_stakes:{topic}")
                escalate("complex", topic_priority)
        areas = [name for name, pattern in self._areas.items() if pattern.search(latest.text)]
        if len(areas) >= self._several:
            signals.append(f"several_problems:{'+'.join(areas)}")
            escalate("complex", "high")
        if self._asked_again(turns):
            signals.append(f"repeated_need:{latest.intent}")
            escalate("complex", "high")
        person = latest.person
        asked_for_person = latest.intent in HANDOFF_INTENTS  # the intent routes it; the reason stays "requested"
        if person is not None and person >= self.needs_person and about_shop and not asked_for_person:
            signals.append("needs_person")
            scores["needs_person"] = float(person)
            escalate("emotional" if latest.level != "none" else "complex", "high")
        for cue in emotion.get("cues", []):
            signals.append(f"cue:{cue}")
        upset = self._negative(latest) and latest.intent not in HANDOFF_INTENTS
        acknowledge = reason is None and (upset or topic_acknowledged)
        if acknowledge and upset:
            signals.append(f"emotion:mild:{emotion.get('label')}")
        return Assessment(reason is not None, reason, priority, acknowledge, tuple(signals), scores)

    def near_misses(self, turn: Turn) -> dict[str, float]:
        """Scores of a message that came within `review_margin` under a threshold: worth a trainer's look."""
        emotion = turn.emotion or {}
        candidates = {"strong_emotion": ((emotion.get("strength") or {}).get("strong"), self.strong_emotion)}
        candidates["needs_person"] = (turn.person, self.needs_person)
        for topic, probability in turn.topics.items():
            if topic in self.topics:
                candidates[f"topic:{topic}"] = (probability, self.topics[topic].threshold)
        return {
            name: float(score)
            for name, (score, threshold) in candidates.items()
            if score is not None and threshold - self.review_margin <= float(score) < threshold
        }

    def _negative(self, turn: Turn) -> bool:
        return turn.level == "strong" or (turn.level == "mild" and not self._quiet_turn(turn))

    def _quiet_turn(self, turn: Turn) -> bool:
        return turn.intent in self._quiet and turn.confidence >= self._quiet_confidence

    def _asked_again(self, turns: Sequence[Turn]) -> bool:
        latest = turns[-1]
        if not latest.intent or latest.intent in self._repeatable or latest.intent in HANDOFF_INTENTS:
            return False
        earlier = turns[-self._window : -1]
        # The same need again, with nothing new: "and for order 00012345?" is a follow-up, not a repeat.
        return any(
            t.intent == latest.intent and t.answered and set(latest.entities) <= set(t.entities) for t in earlier
        )


def _confidence(parse: Mapping[str, Any]) -> float:
    """The intent's confidence; a story's or a button's intent, which has none, is certain."""
    confidence = (parse.get("intent") or {}).get("confidence")
    return 1.0 if confidence is None else float(confidence)


def _rank(priority: str) -> int:
    return {"urgent": 0, "high": 1, "normal": 2}.get(priority, 3)


@functools.lru_cache(maxsize=4)
def rules_for(path: str = str(POLICY_FILE)) -> EscalationRules:
    policy = load_policy(Path(path))
    return EscalationRules(policy["escalation"], policy.get("judgement"))


def turns_from_events(events: Iterable[Mapping[str, Any]], scorer: EmotionScorer | None = None) -> list[Turn]:
    """Turns from events as the action server (and Rasa's HTTP API) sends them: dicts.

    With a `scorer`, a message whose parse data has no emotion (a tracker built from a story) is scored here.
    """
    turns: list[Turn] = []
    actions: list[str] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if turns:
                turns[-1] = dataclasses.replace(turns[-1], answered_by=tuple(actions))
            parse = event.get("parse_data") or {}
            text = str(event.get("text") or "")
            emotion = parse.get("emotion") or (scorer.score(text).to_json() if scorer and text else None)
            turns.append(
                Turn(
                    text=text,
                    intent=(parse.get("intent") or {}).get("name"),
                    emotion=emotion,
                    entities=tuple(str(e.get("value")) for e in parse.get("entities") or []),
                    judgement=parse.get("judgement"),
                    confidence=_confidence(parse),
                )
            )
            actions = []
        elif kind == "action" and event.get("name"):
            actions.append(str(event["name"]))
        elif kind == "session_started":
            turns, actions = [], []
    if turns:
        turns[-1] = dataclasses.replace(turns[-1], answered_by=tuple(actions))
    return turns
