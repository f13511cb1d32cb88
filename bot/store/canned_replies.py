"""Canned replies: the answers agents send often, written once by a supervisor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import FrontlineError
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.schema import utcnow

STARTERS = (
    (
        "Greeting",
        "Hi, I'm here to help. I've read your conversation with our assistant, so no need to repeat anything.",
    ),
    ("Checking", "Thanks for your patience, I'm checking this with our warehouse now. It should take a minute or two."),
    ("Closing", "Is there anything else I can help you with today?"),
)


class DuplicateTitle(FrontlineError, ValueError):
    """A canned reply with this title exists already."""

    status = 409
    code = "duplicate"

    def __init__(self, title: str) -> None:
        super().__init__(f"There is already a canned reply called {title}.")
        self.title = title


class CannedReplies:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def all(self) -> list[dict[str, Any]]:
        def load(conn: Any) -> list[dict[str, Any]]:
            rows = conn.execute(select(t.canned_replies).order_by(t.canned_replies.c.title)).all()
            return [{"id": r.id, "title": r.title, "text": r.text} for r in rows]

        return await in_transaction(self._engine, load)

    async def add(self, title: str, text: str) -> dict[str, Any]:
        def add(conn: Any) -> dict[str, Any]:
            try:
                new_id = conn.execute(
                    insert(t.canned_replies).values(title=title, text=text, created_at=utcnow())
                ).inserted_primary_key[0]
            except IntegrityError as exc:
                raise DuplicateTitle(title) from exc
            return {"id": new_id, "title": title, "text": text}

        return await in_transaction(self._engine, add)

    async def seed(self) -> None:
        """The starter set, on a fresh database only."""
        if await self.all():
            return
        for title, text in STARTERS:
            try:
                await self.add(title, text)
            except DuplicateTitle:  # another hub starting at the same time seeded it
                continue
