"""Escalations the bot may have missed, found in Rasa's events for the trainers' review inbox.

Two reasons, each labelled by a trainer `needs_person` or `fine` (never an intent), which the export turns into
examples the escalation judgement learns `person` from:
- `missed_escalation`: the customer was upset (emotion mild or strong), the bot did not hand over, and within
  the next 3 customer messages they asked for a person. Found when the request comes in, by looking back, so
  the inbox still reads every event once. A handoff between the two means the bot did not miss it.
- `near_threshold`: a message whose scores came within `review_margin` under a threshold of escalation.yml,
  and the bot did not hand over.
One item per message: a near miss later found to be a missed escalation becomes one while it is still open.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.domain.escalation import EscalationRules, Turn, rules_for, turns_from_events
from bot.store import schema as t

ESCALATION_REASONS = frozenset({"missed_escalation", "near_threshold"})
LABELS = {"needs_person": True, "fine": False}
"""A trainer's verdict on an escalation item, and the `person` flag it becomes in the training examples."""
PERSON_INTENTS = frozenset({"contact_human_agent", "contact_customer_service"})
LOOK_AHEAD = 3
HANDOFF = "action_handoff"
NEW_SESSION = frozenset({"session_started", "restart"})
SCAN = 200
"""Events read before or after a message: far more than 3 customer messages and the bot's answers take."""


@dataclasses.dataclass(frozen=True)
class Found:
    """A message that belongs in the inbox as an escalation item: its Rasa event and why."""

    event_id: int
    event: Mapping[str, Any]
    reason: str
    scores: dict[str, Any]


class EscalationFinder:
    def __init__(self, rules: EscalationRules | None = None) -> None:
        self._rules = rules

    @property
    def rules(self) -> EscalationRules:
        """escalation.yml, read at the first refresh rather than when the hub starts."""
        if self._rules is None:
            self._rules = rules_for()
        return self._rules

    def find(self, conn: Connection, event_id: int, sender_id: str, event: Mapping[str, Any]) -> list[Found]:
        """What a new user event brings: itself when it came near a threshold, and, when it asks for a person,
        the upset messages just before it that the bot did not hand over."""
        found: list[Found] = []
        if typed(event) and self.rules.near_misses(turn(event)) and not _handed_over_after(conn, event_id, sender_id):
            found.append(Found(event_id, event, "near_threshold", self.scores(event)))
        if intent_of(event) in PERSON_INTENTS:
            found.extend(self._missed_before(conn, event_id, sender_id, event))
        return found

    def scores(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """What the trainer sees next to the message: the feeling, the person probability, the near misses."""
        message = turn(event)
        emotion = message.emotion or {}
        feeling: dict[str, Any] = {"level": message.level, "label": emotion.get("label")}
        strong = (emotion.get("strength") or {}).get("strong")
        if strong is not None:
            feeling["strong"] = _rounded(strong)
        scores: dict[str, Any] = {"emotion": feeling}
        if message.person is not None:
            scores["person"] = _rounded(message.person)
        near = self.rules.near_misses(message)
        if near:
            scores["near"] = {
                name: {"score": _rounded(score), "threshold": self._threshold(name)}
                for name, score in sorted(near.items())
            }
        return scores

    def _missed_before(
        self, conn: Connection, request_id: int, sender_id: str, request: Mapping[str, Any]
    ) -> list[Found]:
        rows = conn.execute(
            select(t.rasa_events.c.id, t.rasa_events.c.type_name, t.rasa_events.c.action_name, t.rasa_events.c.data)
            .where(t.rasa_events.c.sender_id == sender_id, t.rasa_events.c.id < request_id)
            .order_by(t.rasa_events.c.id.desc())
            .limit(SCAN)
        ).all()
        found: list[Found] = []
        later = 0
        for row in rows:
            if row.type_name in NEW_SESSION or (row.type_name == "action" and row.action_name == HANDOFF):
                break
            if row.type_name != "user":
                continue
            later += 1
            event = load_event(row.data)
            if event is not None and typed(event) and turn(event).level in {"mild", "strong"}:
                asked = {"asked_for_person": {"intent": intent_of(request), "messages_later": later}}
                found.append(Found(row.id, event, "missed_escalation", self.scores(event) | asked))
            if later == LOOK_AHEAD:
                break
        return found[::-1]

    def _threshold(self, name: str) -> float:
        if name == "strong_emotion":
            return self.rules.strong_emotion
        if name == "needs_person":
            return self.rules.needs_person
        return self.rules.topics[name.removeprefix("topic:")].threshold


def load_event(raw: str | None) -> dict[str, Any] | None:
    try:
        event = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def typed(event: Mapping[str, Any]) -> bool:
    """A message the customer wrote: not empty, not a button's payload."""
    text = str(event.get("text") or "").strip()
    return bool(text) and not text.startswith("/")


def turn(event: Mapping[str, Any]) -> Turn:
    return turns_from_events([{**event, "event": "user"}])[0]


def intent_of(event: Mapping[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _handed_over_after(conn: Connection, event_id: int, sender_id: str) -> bool:
    """Whether the bot ran `action_handoff` before the customer's next message."""
    rows = conn.execute(
        select(t.rasa_events.c.type_name, t.rasa_events.c.action_name)
        .where(t.rasa_events.c.sender_id == sender_id, t.rasa_events.c.id > event_id)
        .order_by(t.rasa_events.c.id)
        .limit(SCAN)
    )
    for row in rows:
        if row.type_name == "user" or row.type_name in NEW_SESSION:
            return False
        if row.type_name == "action" and row.action_name == HANDOFF:
            return True
    return False


def _rounded(value: Any) -> float:
    return round(float(value), 3)
