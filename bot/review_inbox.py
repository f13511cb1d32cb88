"""The trainers' review inbox: customer messages the bot was unsure about, to be labelled or dismissed.

Two sources, read incrementally (a cursor each) whenever the inbox is opened:
- Rasa's tracker store: the `events` table of Rasa's SQLTrackerStore, which DESIGN.md puts in the hub's
  database. User messages that fell back (`nlu_fallback`), were out of scope, or whose intent was below the
  review threshold. The conversation id is Rasa's sender id, so each item links to its conversation.
- The hub's handoffs with reason `not_understood`: the customer messages just before the bot gave up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from actions.database import in_transaction
from bot import schema as t
from bot.schema import utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")

RASA_EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("data", Text),
)
"""Rasa's SQLTrackerStore table, as far as the inbox reads it."""

STATUSES = ("open", "labelled", "dismissed")
MISSES = {"nlu_fallback": "nlu_fallback", "out_of_scope": "out_of_scope"}
INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")
BATCH = 2000


class ReviewError(Exception):
    """A review the inbox cannot take (unknown item, a bad intent name); maps to an HTTP error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class ReviewItem:
    id: int
    conversation_id: str
    text: str
    predicted_intent: str | None
    confidence: float | None
    entities: tuple[dict[str, Any], ...]
    reason: str
    status: str
    label: str | None
    trainer_name: str | None
    reviewed_at: dt.datetime | None
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["entities"] = list(self.entities)
        data["confidence"] = round(self.confidence, 3) if self.confidence is not None else None
        for key in ("reviewed_at", "created_at"):
            data[key] = data[key].isoformat() + "Z" if data[key] else None
        return data


class ReviewInbox:
    def __init__(self, engine: Engine, threshold: float = 0.7, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.threshold = threshold
        self._clock = clock

    async def refresh(self) -> int:
        """Take in what the bot was unsure about since the last look; returns how many items are new."""
        return await self._run(lambda conn: self._from_rasa(conn) + self._from_handoffs(conn))

    async def items(self, status: str = "open", limit: int = 200) -> list[ReviewItem]:
        if status not in STATUSES:
            raise ReviewError(422, "bad_status", f"status is one of {', '.join(STATUSES)}")

        def load(conn: Connection) -> list[ReviewItem]:
            query = _items().where(t.review_items.c.status == status)
            order = t.review_items.c.id if status == "open" else t.review_items.c.reviewed_at.desc()
            return [_item(row) for row in conn.execute(query.order_by(order).limit(limit))]

        return await self._run(load)

    async def counts(self) -> dict[str, int]:
        def load(conn: Connection) -> dict[str, int]:
            rows = conn.execute(select(t.review_items.c.status, func.count()).group_by(t.review_items.c.status)).all()
            return {status: 0 for status in STATUSES} | {row[0]: int(row[1]) for row in rows}

        return await self._run(load)

    async def label(self, item_id: int, intent: str, trainer_id: int) -> ReviewItem:
        """The right intent for the message: an existing one or a new name (lower case, digits, underscores)."""
        intent = intent.strip()
        if not INTENT_NAME.fullmatch(intent):
            raise ReviewError(
                422, "bad_intent", "An intent name is 2-64 characters: lower-case letters, digits and underscores."
            )
        return await self._review(item_id, "labelled", intent, trainer_id)

    async def dismiss(self, item_id: int, trainer_id: int) -> ReviewItem:
        return await self._review(item_id, "dismissed", None, trainer_id)

    async def labelled(self) -> list[ReviewItem]:
        def load(conn: Connection) -> list[ReviewItem]:
            query = _items().where(t.review_items.c.status == "labelled").order_by(t.review_items.c.id)
            return [_item(row) for row in conn.execute(query)]

        return await self._run(load)

    async def _review(self, item_id: int, status: str, label: str | None, trainer_id: int) -> ReviewItem:
        def save(conn: Connection) -> ReviewItem:
            changed = conn.execute(
                update(t.review_items)
                .where(t.review_items.c.id == item_id)
                .values(status=status, label=label, trainer_id=trainer_id, reviewed_at=self._clock())
            ).rowcount
            if not changed:
                raise ReviewError(404, "not_found", f"No review item {item_id}.")
            return _item(conn.execute(_items().where(t.review_items.c.id == item_id)).one())

        return await self._run(save)

    def _from_rasa(self, conn: Connection) -> int:
        if not inspect(conn).has_table(RASA_EVENTS.name):
            return 0
        cursor = _cursor(conn, "rasa_events")
        rows = conn.execute(
            select(RASA_EVENTS.c.id, RASA_EVENTS.c.sender_id, RASA_EVENTS.c.data)
            .where(RASA_EVENTS.c.id > cursor, RASA_EVENTS.c.type_name == "user")
            .order_by(RASA_EVENTS.c.id)
            .limit(BATCH)
        ).all()
        added = 0
        for row in rows:
            item = self._unsure(row.data)
            if item is not None:
                added += self._add(conn, f"event:{row.id}", row.sender_id, **item)
        if rows:
            _move_cursor(conn, "rasa_events", rows[-1].id)
        return added

    def _unsure(self, raw: str | None) -> dict[str, Any] | None:
        """The inbox fields of a Rasa user event the bot was unsure about; None when it was sure (or a button)."""
        try:
            event = json.loads(raw or "{}")
        except json.JSONDecodeError:
            return None
        text = str(event.get("text") or "").strip()
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name, confidence = intent.get("name"), intent.get("confidence")
        if not text or text.startswith("/") or not name:
            return None
        if name in MISSES:
            reason = MISSES[name]
            ranked = [i for i in parse.get("intent_ranking") or [] if i.get("name") not in MISSES]
            name, confidence = (ranked[0].get("name"), ranked[0].get("confidence")) if ranked else (None, None)
        elif confidence is not None and float(confidence) < self.threshold:
            reason = "low_confidence"
        else:
            return None
        entities = [
            {k: e[k] for k in ("entity", "value", "start", "end") if k in e}
            for e in parse.get("entities") or []
            if isinstance(e, dict)
        ]
        return {
            "text": text,
            "predicted_intent": name,
            "confidence": float(confidence) if confidence is not None else None,
            "entities": entities,
            "reason": reason,
        }

    def _from_handoffs(self, conn: Connection) -> int:
        cursor = _cursor(conn, "handoffs")
        handoffs = conn.execute(
            select(t.handoffs.c.id, t.handoffs.c.conversation_id, t.handoffs.c.requested_at, t.handoffs.c.reason)
            .where(t.handoffs.c.id > cursor)
            .order_by(t.handoffs.c.id)
            .limit(BATCH)
        ).all()
        added = 0
        for handoff in handoffs:
            if handoff.reason != "not_understood":
                continue
            before = conn.execute(
                select(t.messages.c.id, t.messages.c.text, t.messages.c.payload)
                .where(
                    t.messages.c.conversation_id == handoff.conversation_id,
                    t.messages.c.sender == "customer",
                    t.messages.c.created_at <= handoff.requested_at,
                )
                .order_by(t.messages.c.id.desc())
                .limit(3)
            ).all()
            for message in reversed(before):
                tapped = '"button"' in (message.payload or "")
                if tapped or message.text.startswith("/") or self._known(conn, handoff.conversation_id, message.text):
                    continue
                added += self._add(
                    conn,
                    f"handoff:{handoff.id}:{message.id}",
                    handoff.conversation_id,
                    text=message.text,
                    predicted_intent=None,
                    confidence=None,
                    entities=[],
                    reason="not_understood",
                )
        if handoffs:
            _move_cursor(conn, "handoffs", handoffs[-1].id)
        return added

    def _known(self, conn: Connection, conversation_id: str, text: str) -> bool:
        """Already in the inbox from Rasa's events (the fallbacks that led to the handoff)."""
        return (
            conn.execute(
                select(t.review_items.c.id).where(
                    t.review_items.c.conversation_id == conversation_id, t.review_items.c.text == text
                )
            ).first()
            is not None
        )

    def _add(self, conn: Connection, origin: str, conversation_id: str, **fields: Any) -> int:
        values = fields | {"entities": json.dumps(fields["entities"]), "text": fields["text"][:4000]}
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(t.review_items).values(
                        origin=origin,
                        conversation_id=conversation_id,
                        status="open",
                        created_at=self._clock(),
                        **values,
                    )
                )
        except IntegrityError:
            return 0
        return 1

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)


def _items() -> Any:
    return select(t.review_items, t.agents.c.display_name.label("trainer_name")).outerjoin(
        t.agents, t.agents.c.id == t.review_items.c.trainer_id
    )


def _item(row: Any) -> ReviewItem:
    return ReviewItem(
        id=row.id,
        conversation_id=row.conversation_id,
        text=row.text,
        predicted_intent=row.predicted_intent,
        confidence=row.confidence,
        entities=tuple(json.loads(row.entities or "[]")),
        reason=row.reason,
        status=row.status,
        label=row.label,
        trainer_name=row.trainer_name,
        reviewed_at=row.reviewed_at,
        created_at=row.created_at,
    )


def _cursor(conn: Connection, source: str) -> int:
    value = conn.execute(select(t.review_cursor.c.last_id).where(t.review_cursor.c.source == source)).scalar()
    if value is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(t.review_cursor).values(source=source, last_id=0))
        except IntegrityError:
            pass
        return 0
    return int(value)


def _move_cursor(conn: Connection, source: str, last_id: int) -> None:
    conn.execute(
        update(t.review_cursor)
        .where(t.review_cursor.c.source == source, t.review_cursor.c.last_id < last_id)
        .values(last_id=last_id)
    )
