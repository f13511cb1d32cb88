"""Agents' private notes on a conversation: agents see them, the customer never does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.records import iso
from bot.store.schema import utcnow

T = TypeVar("T")


class NoteStore:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock

    async def add(self, conversation_id: str, agent_id: int, text: str) -> dict[str, Any]:
        """A private note: agents see it, the customer never does."""

        def add(conn: Connection) -> dict[str, Any]:
            now = self._clock()
            note_id = conn.execute(
                insert(t.notes).values(conversation_id=conversation_id, agent_id=agent_id, text=text, created_at=now)
            ).inserted_primary_key[0]
            return {
                "id": note_id,
                "conversation_id": conversation_id,
                "agent_id": agent_id,
                "text": text,
                "at": iso(now),
            }

        return await self._run(add)

    async def of(self, conversation_id: str) -> list[dict[str, Any]]:
        def load(conn: Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                select(t.notes, t.agents.c.display_name)
                .join(t.agents, t.agents.c.id == t.notes.c.agent_id)
                .where(t.notes.c.conversation_id == conversation_id)
                .order_by(t.notes.c.id)
            ).all()
            return [
                {
                    "id": r.id,
                    "agent_id": r.agent_id,
                    "agent_name": r.display_name,
                    "text": r.text,
                    "at": iso(r.created_at),
                }
                for r in rows
            ]

        return await self._run(load)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
