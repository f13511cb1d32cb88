"""The queue and who has what, as the console, the customer's place in line and auto-assignment read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import and_, case, select
from sqlalchemy.engine import Connection, Engine

from bot.domain.vocabulary import Priority, State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.records import Conversation, Handoff, conversation_from, handoff_from

T = TypeVar("T")

CONVERSATIONS = select(t.conversations, t.customers.c.display_name.label("customer_name")).join(
    t.customers, t.customers.c.id == t.conversations.c.customer_id
)
"""Conversations with the customer's name as the channel knows it (a Telegram user's name), for the console."""
PRIORITY_ORDER = case(
    {priority.value: priority.rank for priority in Priority}, value=t.conversations.c.priority, else_=len(Priority)
)


class QueueReads:
    """Reads only: every change of a conversation's state goes through ConversationStore."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def waiting(self) -> list[Conversation]:
        """The queue: priority first, then who has waited longest."""

        def load(conn: Connection) -> list[Conversation]:
            rows = conn.execute(
                CONVERSATIONS.where(t.conversations.c.state == State.QUEUED).order_by(
                    PRIORITY_ORDER, t.conversations.c.queued_at
                )
            ).all()
            return [conversation_from(r) for r in rows]

        return await self._run(load)

    async def assigned_to(self, agent_id: int) -> list[Conversation]:
        def load(conn: Connection) -> list[Conversation]:
            rows = conn.execute(
                CONVERSATIONS.where(
                    t.conversations.c.state == State.AGENT, t.conversations.c.assigned_agent_id == agent_id
                ).order_by(t.conversations.c.updated_at)
            ).all()
            return [conversation_from(r) for r in rows]

        return await self._run(load)

    async def handoff(self, handoff_id: int) -> Handoff | None:
        def load(conn: Connection) -> Handoff | None:
            row = conn.execute(select(t.handoffs).where(t.handoffs.c.id == handoff_id)).first()
            return handoff_from(row) if row else None

        return await self._run(load)

    async def recent_handling_seconds(self, limit: int = 50) -> list[float]:
        """How long agents took on the latest resolved handoffs (claim to resolve), for wait estimates."""

        def load(conn: Connection) -> list[float]:
            rows = conn.execute(
                select(t.handoffs.c.claimed_at, t.handoffs.c.resolved_at)
                .where(and_(t.handoffs.c.resolved_at.is_not(None), t.handoffs.c.claimed_at.is_not(None)))
                .order_by(t.handoffs.c.resolved_at.desc())
                .limit(limit)
            ).all()
            return [(r.resolved_at - r.claimed_at).total_seconds() for r in rows]

        return await self._run(load)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
