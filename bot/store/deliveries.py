"""How far each push channel's chat has been sent its conversation: the cursor that makes delivery durable.

A channel without a socket of its own (Telegram) sends a conversation's messages in order and moves the
cursor only after the message was accepted; on restart it sends everything after the cursor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.vocabulary import State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.schema import utcnow

T = TypeVar("T")


class DeliveryLog:
    def __init__(self, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.channel = channel

    async def track(self, conversation_id: str, address: str) -> None:
        """Start delivering this conversation to `address` (a chat id); what is stored so far is not resent."""

        def add(conn: Connection) -> None:
            exists = conn.execute(
                select(t.deliveries.c.conversation_id).where(t.deliveries.c.conversation_id == conversation_id)
            ).first()
            if exists:
                return
            latest = conn.execute(
                select(func.max(t.messages.c.id)).where(t.messages.c.conversation_id == conversation_id)
            ).scalar_one()
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(t.deliveries).values(
                            conversation_id=conversation_id,
                            channel=self.channel,
                            address=address,
                            delivered_message_id=latest or 0,
                            updated_at=utcnow(),
                        )
                    )
            except IntegrityError:
                pass

        await self._run(add)

    async def delivered_up_to(self, conversation_id: str) -> int:
        def load(conn: Connection) -> int:
            value = conn.execute(
                select(t.deliveries.c.delivered_message_id).where(t.deliveries.c.conversation_id == conversation_id)
            ).scalar()
            return int(value or 0)

        return await self._run(load)

    async def advance(self, conversation_id: str, message_id: int) -> None:
        """The chat has everything up to `message_id`; the cursor never moves back."""

        def move(conn: Connection) -> None:
            conn.execute(
                update(t.deliveries)
                .where(
                    t.deliveries.c.conversation_id == conversation_id,
                    t.deliveries.c.delivered_message_id < message_id,
                )
                .values(delivered_message_id=message_id, updated_at=utcnow())
            )

        await self._run(move)

    async def owed(self) -> list[tuple[str, str]]:
        """(conversation, address) of this channel's chats still owed a message, or with people right now."""

        def load(conn: Connection) -> list[tuple[str, str]]:
            newest = (
                select(func.max(t.messages.c.id))
                .where(t.messages.c.conversation_id == t.deliveries.c.conversation_id)
                .where(t.messages.c.sender != "customer")
                .scalar_subquery()
            )
            rows = conn.execute(
                select(t.deliveries.c.conversation_id, t.deliveries.c.address)
                .join(t.conversations, t.conversations.c.id == t.deliveries.c.conversation_id)
                .where(
                    t.deliveries.c.channel == self.channel,
                    (newest > t.deliveries.c.delivered_message_id)
                    | t.conversations.c.state.in_((State.QUEUED, State.AGENT)),
                )
            ).all()
            return [(row.conversation_id, row.address) for row in rows]

        return await self._run(load)

    async def queue_notice(self, conversation_id: str) -> dict[str, Any] | None:
        def load(conn: Connection) -> dict[str, Any] | None:
            raw = conn.execute(
                select(t.deliveries.c.queue_notice).where(t.deliveries.c.conversation_id == conversation_id)
            ).scalar()
            return json.loads(raw) if raw else None

        return await self._run(load)

    async def set_queue_notice(self, conversation_id: str, notice: dict[str, Any] | None) -> None:
        def save(conn: Connection) -> None:
            conn.execute(
                update(t.deliveries)
                .where(t.deliveries.c.conversation_id == conversation_id)
                .values(queue_notice=json.dumps(notice) if notice else None)
            )

        await self._run(save)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
