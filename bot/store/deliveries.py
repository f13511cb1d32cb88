"""How far each push channel's chat has been sent its conversation: the cursor that makes delivery durable.

A channel without a socket of its own (Telegram) sends a conversation's messages in order and moves the
cursor only after the message was accepted; on restart it sends everything after the cursor. With several hubs the
cursor is read here by whichever hub holds the chat's delivery lease, never kept in a hub's memory, so the next
holder carries on where the last one stopped.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class Cursor:
    """Where a conversation is delivered and the last message id the chat has been sent (or passed over)."""

    address: str
    delivered: int


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

    async def cursor(self, conversation_id: str) -> Cursor | None:
        """The chat and how far it has been sent; None for a conversation this log does not deliver."""

        def load(conn: Connection) -> Cursor | None:
            row = conn.execute(
                select(t.deliveries.c.address, t.deliveries.c.delivered_message_id).where(
                    t.deliveries.c.conversation_id == conversation_id, t.deliveries.c.channel == self.channel
                )
            ).first()
            return Cursor(row.address, int(row.delivered_message_id)) if row is not None else None

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
        """(conversation, address) of this channel's chats still owed a message, or with people right now: the
        chats a starting hub follows."""
        return await self._run(lambda conn: self._owed(conn, with_people=True))

    async def behind(self) -> list[tuple[str, str]]:
        """(conversation, address) of this channel's chats still owed a message: what a sweep wakes, in case the
        event that should have woken a sender was lost or its hub died."""
        return await self._run(lambda conn: self._owed(conn, with_people=False))

    def _owed(self, conn: Connection, with_people: bool) -> list[tuple[str, str]]:
        newest = (
            select(func.max(t.messages.c.id))
            .where(t.messages.c.conversation_id == t.deliveries.c.conversation_id)
            .where(t.messages.c.sender != "customer")
            .scalar_subquery()
        )
        owed = newest > t.deliveries.c.delivered_message_id
        if with_people:
            owed = owed | t.conversations.c.state.in_((State.QUEUED, State.AGENT))
        rows = conn.execute(
            select(t.deliveries.c.conversation_id, t.deliveries.c.address)
            .join(t.conversations, t.conversations.c.id == t.deliveries.c.conversation_id)
            .where(t.deliveries.c.channel == self.channel, owed)
        ).all()
        return [(row.conversation_id, row.address) for row in rows]

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

    async def replace_queue_notice(
        self, conversation_id: str, expected: dict[str, Any] | None, notice: dict[str, Any]
    ) -> bool:
        """Store `notice` only if the one stored is still `expected`; False when another hub changed it first.

        Every hub sees the queue's events: only the one whose change lands tells the customer, so a notice is
        sent once however many hubs run.
        """

        def swap(conn: Connection) -> bool:
            column = t.deliveries.c.queue_notice
            was = column.is_(None) if not expected else column == json.dumps(expected)
            changed = conn.execute(
                update(t.deliveries)
                .where(t.deliveries.c.conversation_id == conversation_id, was)
                .values(queue_notice=json.dumps(notice))
            )
            return bool(changed.rowcount)

        return await self._run(swap)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
