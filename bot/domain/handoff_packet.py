"""The handoff packet: what `action_handoff` tells the hub and the agent about a conversation it hands over.

It travels as Rasa's custom reply item `{"recipient_id": ..., "custom": {"handoff": <packet>}}`; the hub reads
`reason`, `priority` and `summary` and shows the agent the rest (docs/architecture.md, "Contracts"), in words: the
console turns intents, forms, entities and signals into titles and phrases (bot/static/console/handoff-labels.js).
"""

from __future__ import annotations

from typing import Any, TypedDict


class CustomerIds(TypedDict):
    verified_customer_id: str | None
    verified_by: str | None
    """A `VerifiedBy` word; None when nobody is verified (or in a packet from before the field)."""
    email: str | None


class IntentTurn(TypedDict):
    intent: str | None
    confidence: float | None
    text: str | None
    button: bool
    """A tapped button: its text says only that; the intent says which."""


class HandoffPacket(TypedDict):
    reason: str
    """A `Reason` word."""
    priority: str
    """A `Priority` word."""
    summary: str
    """One or two sentences for the agent."""
    signals: list[str]
    """What brought a person in, e.g. `emotion:strong:anger`, `topic:fraud`, `intent:complaint`."""
    scores: dict[str, float]
    """The probability behind each learned signal."""
    intents: list[IntentTurn]
    entities: dict[str, list[Any]]
    order_id: str | None
    customer: CustomerIds
    emotion: dict[str, Any] | None
    interrupted_form: str | None
    channel: str | None
