"""The trainers' review inbox: customer messages the bot was unsure about, to be labelled or dismissed.

Two sources, read incrementally (a cursor each) whenever the inbox is opened:
- Rasa's tracker store: the `events` table of Rasa's SQLTrackerStore, which docs/architecture.md puts in the hub's
  database. User messages that fell back (`nlu_fallback`), were out of scope, or whose intent was below the
  review threshold. The conversation id is Rasa's sender id, so each item links to its conversation.
- The hub's handoffs with reason `not_understood`: the customer messages just before the bot gave up.
Those items are labelled with the intent the message should have had. Rasa's events also bring escalation items
(bot/core/escalation_review.py: a missed or nearly missed handoff), labelled `needs_person` or `fine`; a message can
be in the inbox once for its intent and once for its escalation, as the two questions are learnt apart.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.core.escalation_review import ESCALATION_REASONS, LABELS, EscalationFinder, Found, load_event
from bot.core.review_items import (
    INTENT_NAME,
    STATUSES,
    ReviewError,
    ReviewItem,
    ReviewPage,
    ReviewQuery,
    find_items,
    item_from_row,
    item_select,
)
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.schema import utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")

MISSES = {"nlu_fallback": "nlu_fallback", "out_of_scope": "out_of_scope"}
BATCH = 2000


class ReviewInbox:
    def __init__(
        self,
        engine: Engine,
        threshold: float = 0.7,
        clock: Callable[[], dt.datetime] = utcnow,
        escalations: EscalationFinder | None = None,
    ) -> None:
        self.engine = engine
        self.threshold = threshold
        self._clock = clock
        self._escalations = escalations or EscalationFinder()

    async def refresh(self) -> int:
        """Take in what the bot was unsure about since the last look; returns how many items are new."""
        return await self._run(lambda conn: self._from_rasa(conn) + self._from_handoffs(conn))

    async def items(self, status: str = "open", limit: int = 200) -> list[ReviewItem]:
        """The first items of a status in the order they came in (or were reviewed): what scripts work through."""
        if status not in STATUSES:
            raise ReviewError(400, "bad_status", f"status is one of {', '.join(STATUSES)}.")

        def load(conn: Connection) -> list[ReviewItem]:
            query = item_select().where(t.review_items.c.status == status)
            order = t.review_items.c.id if status == "open" else t.review_items.c.reviewed_at.desc()
            return [item_from_row(row) for row in conn.execute(query.order_by(order).limit(limit))]

        return await self._run(load)

    async def search(self, query: ReviewQuery) -> ReviewPage:
        """The page of items a trainer asked for (bot/core/review_items.py), newest first, with the total."""
        return await self._run(lambda conn: find_items(conn, query))

    async def counts(self) -> dict[str, int]:
        def load(conn: Connection) -> dict[str, int]:
            rows = conn.execute(select(t.review_items.c.status, func.count()).group_by(t.review_items.c.status)).all()
            return {status: 0 for status in STATUSES} | {row[0]: int(row[1]) for row in rows}

        return await self._run(load)

    async def label(self, item_id: int, label: str, trainer_id: int) -> ReviewItem:
        """An intent item's right intent (an existing one or a new name: lower case, digits, underscores), or an
        escalation item's verdict, `needs_person` or `fine`; the two never mix."""
        label = label.strip()

        def check(conn: Connection) -> None:
            reason = conn.execute(select(t.review_items.c.reason).where(t.review_items.c.id == item_id)).scalar()
            if reason is None:
                raise ReviewError(404, "not_found", f"No review item {item_id}.")
            if reason in ESCALATION_REASONS:
                if label not in LABELS:
                    raise ReviewError(
                        422, "bad_escalation_label", "An escalation item is labelled needs_person or fine."
                    )
            elif label in LABELS:
                raise ReviewError(
                    422, "not_an_escalation", f"{label} labels escalation items; this message needs an intent."
                )
            elif not INTENT_NAME.fullmatch(label):
                raise ReviewError(
                    422, "bad_intent", "An intent name is 2-64 characters: lower-case letters, digits and underscores."
                )

        return await self._review(item_id, "labelled", label, trainer_id, check)

    async def dismiss(self, item_id: int, trainer_id: int) -> ReviewItem:
        return await self._review(item_id, "dismissed", None, trainer_id)

    async def labelled(self) -> list[ReviewItem]:
        def load(conn: Connection) -> list[ReviewItem]:
            query = item_select().where(t.review_items.c.status == "labelled").order_by(t.review_items.c.id)
            return [item_from_row(row) for row in conn.execute(query)]

        return await self._run(load)

    async def _review(
        self,
        item_id: int,
        status: str,
        label: str | None,
        trainer_id: int,
        check: Callable[[Connection], None] | None = None,
    ) -> ReviewItem:
        def save(conn: Connection) -> ReviewItem:
            if check is not None:
                check(conn)
            changed = conn.execute(
                update(t.review_items)
                .where(t.review_items.c.id == item_id)
                .values(status=status, label=label, trainer_id=trainer_id, reviewed_at=self._clock())
            ).rowcount
            if not changed:
                raise ReviewError(404, "not_found", f"No review item {item_id}.")
            return item_from_row(conn.execute(item_select().where(t.review_items.c.id == item_id)).one())

        return await self._run(save)

    def _from_rasa(self, conn: Connection) -> int:
        if not inspect(conn).has_table(t.rasa_events.name):
            return 0
        cursor = _cursor(conn, "rasa_events")
        rows = conn.execute(
            select(t.rasa_events.c.id, t.rasa_events.c.sender_id, t.rasa_events.c.data)
            .where(t.rasa_events.c.id > cursor, t.rasa_events.c.type_name == "user")
            .order_by(t.rasa_events.c.id)
            .limit(BATCH)
        ).all()
        added = 0
        for row in rows:
            event = load_event(row.data)
            if event is None:
                continue
            item = self._unsure(event)
            if item is not None:
                added += self._add(conn, f"event:{row.id}", row.sender_id, **item)
            for found in self._escalations.find(conn, row.id, row.sender_id, event):
                added += self._add_escalation(conn, row.sender_id, found)
        if rows:
            _move_cursor(conn, "rasa_events", rows[-1].id)
        return added

    def _unsure(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The inbox fields of a Rasa user event the bot was unsure about; None when it was sure (or a button)."""
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
        return {
            "text": text,
            "predicted_intent": name,
            "confidence": float(confidence) if confidence is not None else None,
            "entities": _entities(parse),
            "reason": reason,
        }

    def _add_escalation(self, conn: Connection, conversation_id: str, found: Found) -> int:
        """One escalation item per message: a near miss still open becomes a missed escalation, it is not added."""
        parse = found.event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        origin = f"escalation:{found.event_id}"
        fields = {
            "text": str(found.event.get("text") or "").strip(),
            "predicted_intent": intent.get("name"),
            "confidence": float(intent["confidence"]) if intent.get("confidence") is not None else None,
            "entities": _entities(parse),
            "reason": found.reason,
        }
        if self._add(conn, origin, conversation_id, scores=found.scores, **fields):
            return 1
        if found.reason == "missed_escalation":
            item_id = conn.execute(
                select(t.review_items.c.id).where(
                    t.review_items.c.origin == origin,
                    t.review_items.c.reason == "near_threshold",
                    t.review_items.c.status == "open",
                )
            ).scalar()
            if item_id is not None:
                conn.execute(update(t.review_items).where(t.review_items.c.id == item_id).values(reason=found.reason))
                conn.execute(
                    update(t.review_scores)
                    .where(t.review_scores.c.item_id == item_id)
                    .values(scores=json.dumps(found.scores))
                )
        return 0

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
        """Already in the inbox for its intent from Rasa's events (the fallbacks that led to the handoff)."""
        return (
            conn.execute(
                select(t.review_items.c.id).where(
                    t.review_items.c.conversation_id == conversation_id,
                    t.review_items.c.text == text,
                    t.review_items.c.reason.not_in(ESCALATION_REASONS),
                )
            ).first()
            is not None
        )

    def _add(
        self, conn: Connection, origin: str, conversation_id: str, scores: dict[str, Any] | None = None, **fields: Any
    ) -> int:
        values = fields | {"entities": json.dumps(fields["entities"]), "text": fields["text"][:4000]}
        try:
            with conn.begin_nested():
                item_id = conn.execute(
                    insert(t.review_items).values(
                        origin=origin,
                        conversation_id=conversation_id,
                        status="open",
                        created_at=self._clock(),
                        **values,
                    )
                ).inserted_primary_key[0]
                if scores is not None:
                    conn.execute(insert(t.review_scores).values(item_id=item_id, scores=json.dumps(scores)))
        except IntegrityError:
            return 0
        return 1

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)


def _entities(parse: dict[str, Any]) -> list[dict[str, Any]]:
    """The NLU's entities without Rasa's extra keys: what the export needs to annotate and mask them."""
    return [
        {k: e[k] for k in ("entity", "value", "start", "end") if k in e}
        for e in parse.get("entities") or []
        if isinstance(e, dict)
    ]


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
