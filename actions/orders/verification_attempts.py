"""How many wrong email addresses were tried for an order: the limit that keeps verification from being guessed.

The email on an order is the one thing that proves a customer owns it, so trying addresses without end would
eventually reveal someone's order. Wrong tries are kept in the action server's own table (ACTIONS_DATABASE_URL,
a SQLite file under var/ by default) so neither a restart nor a new conversation starts the count again. Only
the conversation id, the order number and the time are stored, never the address that was tried.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from actions.orders.order_system_provider import settings
from bot.store.database import create_engine, create_tables, in_transaction

PER_CONVERSATION = 3
PER_ORDER = 5
WINDOW = dt.timedelta(hours=24)

metadata = sa.MetaData()
failures = sa.Table(
    "verification_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("order_number", sa.String(64), nullable=False, index=True),
    sa.Column("failed_at", sa.DateTime, nullable=False, index=True),
)


@dataclasses.dataclass(frozen=True)
class Limits:
    per_conversation: int = PER_CONVERSATION
    """Wrong addresses one conversation may try, over all its orders, within the window."""
    per_order: int = PER_ORDER
    """Wrong addresses one order may be tried with, from any conversations, within the window."""
    window: dt.timedelta = WINDOW


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class VerificationAttempts:
    """Counts wrong email addresses per conversation and per order, and says when to stop checking."""

    def __init__(self, engine: Engine, limits: Limits = Limits(), clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._engine = engine
        self._limits = limits
        self._clock = clock
        self._ready = False
        self._creating = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> VerificationAttempts:
        return cls(create_engine(url))

    async def locked(self, conversation_id: str, order_number: str) -> bool:
        """Whether this conversation may no longer have an email address checked for this order."""
        return await in_transaction(self._engine, lambda conn: self._locked(conn, conversation_id, order_number))

    async def record_failure(self, conversation_id: str, order_number: str) -> bool:
        """Note one wrong address; whether checking is now locked for this conversation and order."""

        def record(conn: Connection) -> bool:
            self._create_table()
            now = self._clock()
            conn.execute(sa.delete(failures).where(failures.c.failed_at < now - self._limits.window))
            conn.execute(
                sa.insert(failures).values(conversation_id=conversation_id, order_number=order_number, failed_at=now)
            )
            return self._locked(conn, conversation_id, order_number)

        return await in_transaction(self._engine, record)

    async def close(self) -> None:
        self._engine.dispose()

    def _locked(self, conn: Connection, conversation_id: str, order_number: str) -> bool:
        self._create_table()
        since = self._clock() - self._limits.window
        recent = sa.select(sa.func.count()).select_from(failures).where(failures.c.failed_at >= since)
        by_conversation = conn.execute(recent.where(failures.c.conversation_id == conversation_id)).scalar_one()
        by_order = conn.execute(recent.where(failures.c.order_number == order_number)).scalar_one()
        return by_conversation >= self._limits.per_conversation or by_order >= self._limits.per_order

    def _create_table(self) -> None:
        """Made on first use, in its own transaction; first checks at once in this process take turns."""
        if self._ready:
            return
        with self._creating:
            if not self._ready:
                create_tables(self._engine, failures)
                self._ready = True


@functools.lru_cache(maxsize=1)
def verification_attempts() -> VerificationAttempts:
    """This process's counter, on ACTIONS_DATABASE_URL."""
    return VerificationAttempts.from_url(settings().actions_database_url)
