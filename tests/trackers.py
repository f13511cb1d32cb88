"""Building the trackers Rasa sends to the action server, so actions can be run directly in tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parent.parent / "domain.yml").read_text())


def user_event(text: str, intent: str, entities: list[dict[str, Any]] | None = None, **metadata: Any) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
            "text": text,
        },
        "metadata": metadata,
    }


def make_tracker(
    text: str = "hello",
    intent: str = "greet",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    candidates: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message is `text`, after the events in `history`.

    `candidates` are slot values the form extracted from that message and asks the validation action to check.
    """
    latest = user_event(text, intent, entities, **(metadata or {}))
    parse = dict(latest["parse_data"], metadata=metadata or {})
    candidate_events = [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker(
        sender_id="test-conversation",
        slots={**(slots or {}), **(candidates or {})},
        latest_message=parse,
        events=[*(history or []), latest, *candidate_events],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run_action(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run an action the way the action server does; returns (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The final value each event in `events` gives a slot."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
