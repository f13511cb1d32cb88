"""Conversations, their messages and their owner, kept in SQL.

Ownership follows docs/architecture.md: `bot` → `queued` → `agent` → `resolved` → `bot`. Every change of state is one
conditional UPDATE (`... WHERE state = <expected>`), so two hubs or two agents racing get exactly one winner,
and bot messages are only stored while the bot still owns the conversation.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import FrontlineError
from bot.domain.vocabulary import IDLE_STATES, State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.feedback import FeedbackStore
from bot.store.notes import NoteStore
from bot.store.queue_reads import CONVERSATIONS, QueueReads
from bot.store.records import (
    Conversation,
    Customer,
    Handoff,
    Message,
    NewMessage,
    conversation_from,
    handoff_from,
    insert_messages,
    message_from,
)
from bot.store.routing import BotInput, RoutingStore, insert_route
from bot.store.schema import utcnow

T = TypeVar("T")

DEFAULT_IDLE_AFTER = dt.timedelta(hours=24)


class ConversationNotFound(FrontlineError, LookupError):
    """No conversation has this id."""

    status = 404
    code = "not_found"

    def __init__(self, conversation_id: str) -> None:
        super().__init__("There is no such conversation.")
        self.conversation_id = conversation_id


class ConversationStore:
    """All reads and writes of conversations; synchronous SQLAlchemy run in worker threads."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], dt.datetime] = utcnow,
        idle_after: dt.timedelta = DEFAULT_IDLE_AFTER,
    ) -> None:
        """`idle_after`: a customer who comes back after this long starts a new conversation (unless a person
        has it); each conversation is then one contact, which is what the service figures count."""
        self.engine = engine
        self._clock = clock
        self._idle_after = idle_after
        self.feedback = FeedbackStore(engine, clock)
        self.notes = NoteStore(engine, clock)
        self.routing = RoutingStore(engine, clock)
        self.reads = QueueReads(engine)

    def create_schema(self) -> None:
        t.create_schema(self.engine)

    async def customer(self, channel: str, external_id: str, display_name: str | None = None) -> Customer:
        """The customer a channel knows by `external_id`, created on first contact."""

        def find_or_create(conn: Connection) -> Customer:
            query = select(t.customers).where(
                t.customers.c.channel == channel, t.customers.c.external_id == external_id
            )
            row = conn.execute(query).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(t.customers).values(
                                id=str(uuid.uuid4()),
                                channel=channel,
                                external_id=external_id,
                                display_name=display_name,
                                created_at=self._clock(),
                            )
                        )
                except IntegrityError:
                    pass
                row = conn.execute(query).one()
            elif display_name and row.display_name != display_name:
                conn.execute(update(t.customers).where(t.customers.c.id == row.id).values(display_name=display_name))
            return Customer(row.id, row.channel, display_name or row.display_name)

        return await self._run(find_or_create)

    async def current_conversation(self, customer: Customer) -> Conversation:
        """The customer's conversation: the latest one, or a new one owned by the bot.

        The latest one ends when it has been idle for `idle_after` while the bot had it (or after a resolve);
        a conversation the customer never wrote in is kept and starts afresh instead of piling up empty ones.
        """

        def find_or_create(conn: Connection) -> Conversation:
            query = (
                CONVERSATIONS.where(t.conversations.c.customer_id == customer.id)
                .order_by(t.conversations.c.created_at.desc())
                .limit(1)
            )
            row = conn.execute(query).first()
            now = self._clock()
            if row is not None and row.state in IDLE_STATES and now - row.updated_at >= self._idle_after:
                if self._has_messages(conn, row.id):
                    row = None
                else:
                    conn.execute(
                        update(t.conversations)
                        .where(t.conversations.c.id == row.id)
                        .values(created_at=now, updated_at=now)
                    )
                    row = conn.execute(query).one()
            if row is None:
                conn.execute(
                    insert(t.conversations).values(
                        id=str(uuid.uuid4()),
                        customer_id=customer.id,
                        channel=customer.channel,
                        state=State.BOT,
                        created_at=now,
                        updated_at=now,
                    )
                )
                row = conn.execute(query).one()
            return conversation_from(row)

        return await self._run(find_or_create)

    async def get(self, conversation_id: str) -> Conversation:
        def load(conn: Connection) -> Conversation:
            row = conn.execute(CONVERSATIONS.where(t.conversations.c.id == conversation_id)).first()
            if row is None:
                raise ConversationNotFound(conversation_id)
            return conversation_from(row)

        return await self._run(load)

    async def add_customer_message(
        self, conversation_id: str, message: NewMessage, bot_input: BotInput | None = None
    ) -> tuple[Message, bool]:
        """Store what the customer wrote; a repeated client message id returns the stored one (False).

        With `bot_input` the message is meant for the bot: its routing row is stored in the same transaction.
        """

        def add(conn: Connection) -> tuple[Message, bool]:
            if message.client_message_id:
                existing = conn.execute(
                    select(t.messages).where(
                        t.messages.c.conversation_id == conversation_id,
                        t.messages.c.client_message_id == message.client_message_id,
                    )
                ).first()
                if existing is not None:
                    return message_from(existing), False
            try:
                with conn.begin_nested():
                    now = self._clock()
                    stored = insert_messages(conn, conversation_id, [message], now)
                    if bot_input is not None:
                        insert_route(conn, stored[0], bot_input, now, self.routing.lease)
            except IntegrityError:
                existing = conn.execute(
                    select(t.messages).where(
                        t.messages.c.conversation_id == conversation_id,
                        t.messages.c.client_message_id == message.client_message_id,
                    )
                ).one()
                return message_from(existing), False
            return stored[0], True

        return await self._run(add)

    async def add_messages(
        self, conversation_id: str, new: Iterable[NewMessage], *, while_state: str | None = None
    ) -> list[Message]:
        """Store messages; with `while_state`, only if the conversation is (still) in that state."""
        batch = list(new)

        def add(conn: Connection) -> list[Message]:
            if while_state is not None and not self._lock_if(conn, conversation_id, state=while_state):
                return []
            return insert_messages(conn, conversation_id, batch, self._clock())

        return await self._run(add) if batch else []

    async def message(self, message_id: int) -> Message | None:
        def load(conn: Connection) -> Message | None:
            row = conn.execute(select(t.messages).where(t.messages.c.id == message_id)).first()
            return message_from(row) if row else None

        return await self._run(load)

    async def messages(self, conversation_id: str, after_id: int = 0, limit: int = 500) -> list[Message]:
        def load(conn: Connection) -> list[Message]:
            rows = conn.execute(
                select(t.messages)
                .where(t.messages.c.conversation_id == conversation_id, t.messages.c.id > after_id)
                .order_by(t.messages.c.id)
                .limit(limit)
            ).all()
            return [message_from(r) for r in rows]

        return await self._run(load)

    async def queue(
        self,
        conversation_id: str,
        *,
        reason: str,
        priority: str,
        summary: str,
        packet: dict[str, Any],
        source: str,
        from_states: tuple[str, ...] = (State.BOT,),
    ) -> Handoff | None:
        """Move a conversation to the queue and record the handoff; None when it was not in `from_states`."""

        def move(conn: Connection) -> Handoff | None:
            now = self._clock()
            moved = conn.execute(
                update(t.conversations)
                .where(t.conversations.c.id == conversation_id, t.conversations.c.state.in_(from_states))
                .values(
                    state=State.QUEUED,
                    priority=priority,
                    reason=reason,
                    summary=summary,
                    assigned_agent_id=None,
                    queued_at=now,
                    updated_at=now,
                )
            ).rowcount
            if not moved:
                return None
            handoff_id = conn.execute(
                insert(t.handoffs).values(
                    conversation_id=conversation_id,
                    reason=reason,
                    priority=priority,
                    summary=summary,
                    packet=json.dumps(packet),
                    source=source,
                    requested_at=now,
                )
            ).inserted_primary_key[0]
            conn.execute(
                update(t.conversations).where(t.conversations.c.id == conversation_id).values(handoff_id=handoff_id)
            )
            return handoff_from(conn.execute(select(t.handoffs).where(t.handoffs.c.id == handoff_id)).one())

        return await self._run(move)

    async def claim(self, conversation_id: str, agent_id: int) -> bool:
        """An agent takes a queued conversation; exactly one of several racing agents wins."""
        return await self._transition(conversation_id, State.QUEUED, State.AGENT, agent_id=agent_id, claim=True)

    async def transfer(self, conversation_id: str, from_agent: int, to_agent: int) -> bool:
        def move(conn: Connection) -> bool:
            moved = conn.execute(
                update(t.conversations)
                .where(
                    t.conversations.c.id == conversation_id,
                    t.conversations.c.state == State.AGENT,
                    t.conversations.c.assigned_agent_id == from_agent,
                )
                .values(assigned_agent_id=to_agent, updated_at=self._clock())
            ).rowcount
            if moved:
                handoff_id = conn.execute(
                    select(t.conversations.c.handoff_id).where(t.conversations.c.id == conversation_id)
                ).scalar_one()
                conn.execute(update(t.handoffs).where(t.handoffs.c.id == handoff_id).values(agent_id=to_agent))
            return bool(moved)

        return await self._run(move)

    async def resolve(self, conversation_id: str, agent_id: int) -> bool:
        return await self._transition(conversation_id, State.AGENT, State.RESOLVED, agent_id=agent_id)

    async def back_to_bot(self, conversation_id: str, from_states: tuple[str, ...] = (State.RESOLVED,)) -> bool:
        """The bot owns the conversation again (after a resolve, or when a queued customer would rather)."""

        def move(conn: Connection) -> bool:
            return bool(
                conn.execute(
                    update(t.conversations)
                    .where(t.conversations.c.id == conversation_id, t.conversations.c.state.in_(from_states))
                    .values(state=State.BOT, assigned_agent_id=None, queued_at=None, updated_at=self._clock())
                ).rowcount
            )

        return await self._run(move)

    async def record_agent_reply(self, conversation_id: str, agent_id: int, message: NewMessage) -> Message | None:
        """Store an agent's reply only while that agent owns the conversation; the first one is timed."""

        def add(conn: Connection) -> Message | None:
            if not self._lock_if(conn, conversation_id, state=State.AGENT, agent_id=agent_id):
                return None
            if message.client_message_id:
                existing = conn.execute(
                    select(t.messages).where(
                        t.messages.c.conversation_id == conversation_id,
                        t.messages.c.client_message_id == message.client_message_id,
                    )
                ).first()
                if existing is not None:
                    return message_from(existing)
            handoff_id = conn.execute(
                select(t.conversations.c.handoff_id).where(t.conversations.c.id == conversation_id)
            ).scalar_one()
            conn.execute(
                update(t.handoffs)
                .where(t.handoffs.c.id == handoff_id, t.handoffs.c.first_reply_at.is_(None))
                .values(first_reply_at=self._clock())
            )
            return insert_messages(conn, conversation_id, [message], self._clock())[0]

        return await self._run(add)

    async def count_messages(self, conversation_id: str) -> int:
        def count(conn: Connection) -> int:
            return int(
                conn.execute(
                    select(func.count()).select_from(t.messages).where(t.messages.c.conversation_id == conversation_id)
                ).scalar_one()
            )

        return await self._run(count)

    async def _transition(
        self, conversation_id: str, expected: str, new: str, *, agent_id: int, claim: bool = False
    ) -> bool:
        def move(conn: Connection) -> bool:
            now = self._clock()
            conditions = [t.conversations.c.id == conversation_id, t.conversations.c.state == expected]
            if not claim:
                conditions.append(t.conversations.c.assigned_agent_id == agent_id)
            values: dict[str, Any] = {"state": new, "updated_at": now}
            if claim:
                values["assigned_agent_id"] = agent_id
            if not conn.execute(update(t.conversations).where(*conditions).values(**values)).rowcount:
                return False
            handoff_id = conn.execute(
                select(t.conversations.c.handoff_id).where(t.conversations.c.id == conversation_id)
            ).scalar_one()
            stamp = {"agent_id": agent_id, "claimed_at": now} if claim else {"resolved_at": now}
            conn.execute(update(t.handoffs).where(t.handoffs.c.id == handoff_id).values(**stamp))
            return True

        return await self._run(move)

    def _lock_if(self, conn: Connection, conversation_id: str, *, state: str, agent_id: int | None = None) -> bool:
        """Take the conversation's row for this transaction if it is in `state` (and owned by `agent_id`).

        A guarding UPDATE rather than a SELECT: it takes the write lock, so no state change can slip in
        between the check and the insert, on SQLite and PostgreSQL alike.
        """
        conditions = [t.conversations.c.id == conversation_id, t.conversations.c.state == state]
        if agent_id is not None:
            conditions.append(t.conversations.c.assigned_agent_id == agent_id)
        touched = conn.execute(update(t.conversations).where(*conditions).values(updated_at=self._clock()))
        return bool(touched.rowcount)

    def _has_messages(self, conn: Connection, conversation_id: str) -> bool:
        return (
            conn.execute(
                select(t.messages.c.id).where(t.messages.c.conversation_id == conversation_id).limit(1)
            ).first()
            is not None
        )

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
