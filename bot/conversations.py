"""Conversations, their messages and their owner, kept in SQL.

Ownership follows DESIGN.md: `bot` → `queued` → `agent` → `resolved` → `bot`. Every change of state is one
conditional UPDATE (`... WHERE state = <expected>`), so two hubs or two agents racing get exactly one winner,
and bot messages are only stored while the bot still owns the conversation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from actions.database import in_transaction
from bot import schema as t
from bot.schema import utcnow

T = TypeVar("T")

CONVERSATIONS = select(t.conversations, t.customers.c.display_name.label("customer_name")).join(
    t.customers, t.customers.c.id == t.conversations.c.customer_id
)
"""Conversations with the customer's name as the channel knows it (a Telegram user's name), for the console."""
FEEDBACK_TABLES = {"csat": t.ratings, "nps": t.nps_scores}
FEEDBACK_SCALES = {"csat": range(1, 6), "nps": range(0, 11)}
"""The questions a customer may answer after a conversation, and the scores each takes."""
DEFAULT_IDLE_AFTER = dt.timedelta(hours=24)
IDLE_STATES = ("bot", "resolved")
"""States in which a conversation may end by idling; a queued or agent-owned one waits for its person."""
PRIORITY_ORDER = case({"urgent": 0, "high": 1, "normal": 2}, value=t.conversations.c.priority, else_=3)


class ConversationNotFound(LookupError):
    """No conversation has this id."""


@dataclasses.dataclass(frozen=True)
class FeedbackAnswer:
    """A customer's answer to one rating or NPS question, and whom it credits (no agent: the bot)."""

    request_id: int
    round_id: int
    question: str
    score: int
    handoff_id: int | None
    agent_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "score": self.score,
            "agent_id": self.agent_id,
            "credited_to": "agent" if self.agent_id else "bot",
        }


@dataclasses.dataclass(frozen=True)
class Customer:
    id: str
    channel: str
    display_name: str | None


@dataclasses.dataclass(frozen=True)
class Conversation:
    id: str
    customer_id: str
    channel: str
    state: str
    priority: str | None
    reason: str | None
    summary: str | None
    handoff_id: int | None
    assigned_agent_id: int | None
    queued_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    customer_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("queued_at", "created_at", "updated_at"):
            data[key] = _iso(data[key])
        return data


@dataclasses.dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    client_message_id: str | None
    sender: str
    agent_id: int | None
    text: str
    payload: dict[str, Any] | None
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "client_id": self.client_message_id,
            "sender": self.sender,
            "agent_id": self.agent_id,
            "text": self.text,
            "payload": self.payload,
            "at": _iso(self.created_at),
        }


@dataclasses.dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: str
    reason: str
    priority: str
    summary: str
    packet: dict[str, Any]
    source: str
    requested_at: dt.datetime
    agent_id: int | None
    claimed_at: dt.datetime | None
    first_reply_at: dt.datetime | None
    resolved_at: dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("requested_at", "claimed_at", "first_reply_at", "resolved_at"):
            data[key] = _iso(data[key])
        return data


@dataclasses.dataclass(frozen=True)
class NewMessage:
    """A message to store: what the bot, an agent or the system says, or what the customer wrote."""

    sender: str
    text: str
    payload: dict[str, Any] | None = None
    agent_id: int | None = None
    client_message_id: str | None = None


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
                        state="bot",
                        created_at=now,
                        updated_at=now,
                    )
                )
                row = conn.execute(query).one()
            return _conversation(row)

        return await self._run(find_or_create)

    async def get(self, conversation_id: str) -> Conversation:
        def load(conn: Connection) -> Conversation:
            row = conn.execute(CONVERSATIONS.where(t.conversations.c.id == conversation_id)).first()
            if row is None:
                raise ConversationNotFound(conversation_id)
            return _conversation(row)

        return await self._run(load)

    async def add_customer_message(self, conversation_id: str, message: NewMessage) -> tuple[Message, bool]:
        """Store what the customer wrote; a repeated client message id returns the stored one (False)."""

        def add(conn: Connection) -> tuple[Message, bool]:
            if message.client_message_id:
                existing = conn.execute(
                    select(t.messages).where(
                        t.messages.c.conversation_id == conversation_id,
                        t.messages.c.client_message_id == message.client_message_id,
                    )
                ).first()
                if existing is not None:
                    return _message(existing), False
            try:
                with conn.begin_nested():
                    stored = self._insert(conn, conversation_id, [message])
            except IntegrityError:
                existing = conn.execute(
                    select(t.messages).where(
                        t.messages.c.conversation_id == conversation_id,
                        t.messages.c.client_message_id == message.client_message_id,
                    )
                ).one()
                return _message(existing), False
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
            return self._insert(conn, conversation_id, batch)

        return await self._run(add) if batch else []

    async def message(self, message_id: int) -> Message | None:
        def load(conn: Connection) -> Message | None:
            row = conn.execute(select(t.messages).where(t.messages.c.id == message_id)).first()
            return _message(row) if row else None

        return await self._run(load)

    async def messages(self, conversation_id: str, after_id: int = 0, limit: int = 500) -> list[Message]:
        def load(conn: Connection) -> list[Message]:
            rows = conn.execute(
                select(t.messages)
                .where(t.messages.c.conversation_id == conversation_id, t.messages.c.id > after_id)
                .order_by(t.messages.c.id)
                .limit(limit)
            ).all()
            return [_message(r) for r in rows]

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
        from_states: tuple[str, ...] = ("bot",),
    ) -> Handoff | None:
        """Move a conversation to the queue and record the handoff; None when it was not in `from_states`."""

        def move(conn: Connection) -> Handoff | None:
            now = self._clock()
            moved = conn.execute(
                update(t.conversations)
                .where(t.conversations.c.id == conversation_id, t.conversations.c.state.in_(from_states))
                .values(
                    state="queued",
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
            return _handoff(conn.execute(select(t.handoffs).where(t.handoffs.c.id == handoff_id)).one())

        return await self._run(move)

    async def claim(self, conversation_id: str, agent_id: int) -> bool:
        """An agent takes a queued conversation; exactly one of several racing agents wins."""
        return await self._transition(conversation_id, "queued", "agent", agent_id=agent_id, claim=True)

    async def transfer(self, conversation_id: str, from_agent: int, to_agent: int) -> bool:
        def move(conn: Connection) -> bool:
            moved = conn.execute(
                update(t.conversations)
                .where(
                    t.conversations.c.id == conversation_id,
                    t.conversations.c.state == "agent",
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
        return await self._transition(conversation_id, "agent", "resolved", agent_id=agent_id)

    async def back_to_bot(self, conversation_id: str, from_states: tuple[str, ...] = ("resolved",)) -> bool:
        """The bot owns the conversation again (after a resolve, or when a queued customer would rather)."""

        def move(conn: Connection) -> bool:
            return bool(
                conn.execute(
                    update(t.conversations)
                    .where(t.conversations.c.id == conversation_id, t.conversations.c.state.in_(from_states))
                    .values(state="bot", assigned_agent_id=None, queued_at=None, updated_at=self._clock())
                ).rowcount
            )

        return await self._run(move)

    async def record_agent_reply(self, conversation_id: str, agent_id: int, message: NewMessage) -> Message | None:
        """Store an agent's reply only while that agent owns the conversation; the first one is timed."""

        def add(conn: Connection) -> Message | None:
            if not self._lock_if(conn, conversation_id, state="agent", agent_id=agent_id):
                return None
            if message.client_message_id:
                existing = conn.execute(
                    select(t.messages).where(
                        t.messages.c.conversation_id == conversation_id,
                        t.messages.c.client_message_id == message.client_message_id,
                    )
                ).first()
                if existing is not None:
                    return _message(existing)
            handoff_id = conn.execute(
                select(t.conversations.c.handoff_id).where(t.conversations.c.id == conversation_id)
            ).scalar_one()
            conn.execute(
                update(t.handoffs)
                .where(t.handoffs.c.id == handoff_id, t.handoffs.c.first_reply_at.is_(None))
                .values(first_reply_at=self._clock())
            )
            return self._insert(conn, conversation_id, [message])[0]

        return await self._run(add)

    async def waiting(self) -> list[Conversation]:
        """The queue: priority first, then who has waited longest."""

        def load(conn: Connection) -> list[Conversation]:
            rows = conn.execute(
                CONVERSATIONS.where(t.conversations.c.state == "queued").order_by(
                    PRIORITY_ORDER, t.conversations.c.queued_at
                )
            ).all()
            return [_conversation(r) for r in rows]

        return await self._run(load)

    async def position(self, conversation: Conversation) -> int | None:
        """1 for the next to be taken; None when not queued."""
        if conversation.state != "queued" or conversation.queued_at is None:
            return None
        queue = await self.waiting()
        return next((i + 1 for i, c in enumerate(queue) if c.id == conversation.id), None)

    async def assigned_to(self, agent_id: int) -> list[Conversation]:
        def load(conn: Connection) -> list[Conversation]:
            rows = conn.execute(
                CONVERSATIONS.where(
                    t.conversations.c.state == "agent", t.conversations.c.assigned_agent_id == agent_id
                ).order_by(t.conversations.c.updated_at)
            ).all()
            return [_conversation(r) for r in rows]

        return await self._run(load)

    async def handoff(self, handoff_id: int) -> Handoff | None:
        def load(conn: Connection) -> Handoff | None:
            row = conn.execute(select(t.handoffs).where(t.handoffs.c.id == handoff_id)).first()
            return _handoff(row) if row else None

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

    async def ask_feedback(
        self,
        conversation_id: str,
        text: str,
        question: str,
        buttons: list[dict[str, Any]],
        after: FeedbackAnswer | None = None,
    ) -> Message | None:
        """Put a rating or NPS question to the customer and note whom its answer will credit.

        A first question credits the agent of the handoff just resolved, or the bot; a follow-up (`after`) credits
        whoever the answered one did, and is asked once per round (None if this round asked it already).
        """
        payload = {"rating_request": True, "question": question, "buttons": buttons}
        requests = t.feedback_requests

        def add(conn: Connection) -> Message | None:
            if after is not None:
                handoff_id, agent_id = after.handoff_id, after.agent_id
                asked = conn.execute(
                    select(requests.c.message_id).where(
                        requests.c.round_id == after.round_id, requests.c.question == question
                    )
                ).first()
                if asked is not None:
                    return None
            else:
                row = conn.execute(
                    select(t.conversations.c.state, t.conversations.c.handoff_id, t.handoffs.c.agent_id)
                    .select_from(t.conversations)
                    .outerjoin(t.handoffs, t.handoffs.c.id == t.conversations.c.handoff_id)
                    .where(t.conversations.c.id == conversation_id)
                ).one()
                resolved = row.state == "resolved" and row.handoff_id is not None
                handoff_id, agent_id = (row.handoff_id, row.agent_id) if resolved else (None, None)
            (message,) = self._insert(conn, conversation_id, [NewMessage("system", text, payload)])
            conn.execute(
                insert(requests).values(
                    message_id=message.id,
                    conversation_id=conversation_id,
                    question=question,
                    handoff_id=handoff_id,
                    agent_id=agent_id,
                    round_id=after.round_id if after is not None else message.id,
                )
            )
            return message

        return await self._run(add)

    async def answer_feedback(
        self,
        conversation: Conversation,
        question: str,
        score: int,
        comment: str | None,
        request_id: int | None = None,
    ) -> FeedbackAnswer | None:
        """Store the answer to one asked question (`request_id`, else this conversation's latest open one of that
        kind); None when nothing of the customer's is open to answer (never asked, answered already)."""
        requests = t.feedback_requests

        def add(conn: Connection) -> FeedbackAnswer | None:
            query = (
                select(requests)
                .join(t.conversations, t.conversations.c.id == requests.c.conversation_id)
                .where(t.conversations.c.customer_id == conversation.customer_id, requests.c.question == question)
            )
            if request_id is not None:
                query = query.where(requests.c.message_id == request_id)
            else:
                query = query.where(
                    requests.c.conversation_id == conversation.id, requests.c.answered_at.is_(None)
                ).order_by(requests.c.message_id.desc())
            request = conn.execute(query.limit(1)).first()
            if request is None:
                return None
            now = self._clock()
            try:
                with conn.begin_nested():
                    taken = conn.execute(
                        update(requests)
                        .where(requests.c.message_id == request.message_id, requests.c.answered_at.is_(None))
                        .values(answered_at=now)
                    ).rowcount
                    if not taken:
                        return None
                    conn.execute(
                        insert(FEEDBACK_TABLES[question]).values(
                            conversation_id=request.conversation_id,
                            handoff_id=request.handoff_id,
                            agent_id=request.agent_id,
                            score=score,
                            comment=comment,
                            created_at=now,
                        )
                    )
            except IntegrityError:
                return None
            return FeedbackAnswer(
                request.message_id, request.round_id, question, score, request.handoff_id, request.agent_id
            )

        return await self._run(add)

    async def add_note(self, conversation_id: str, agent_id: int, text: str) -> dict[str, Any]:
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
                "at": _iso(now),
            }

        return await self._run(add)

    async def notes(self, conversation_id: str) -> list[dict[str, Any]]:
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
                    "at": _iso(r.created_at),
                }
                for r in rows
            ]

        return await self._run(load)

    async def order_actions(self, conversation_id: str) -> list[dict[str, Any]]:
        def load(conn: Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                select(t.order_actions, t.agents.c.display_name)
                .join(t.agents, t.agents.c.id == t.order_actions.c.agent_id)
                .where(t.order_actions.c.conversation_id == conversation_id)
                .order_by(t.order_actions.c.id)
            ).all()
            return [
                {
                    "kind": r.kind,
                    "result": r.result,
                    "reason": r.reason,
                    "agent_name": r.display_name,
                    "at": _iso(r.created_at),
                }
                for r in rows
            ]

        return await self._run(load)

    async def count_messages(self, conversation_id: str) -> int:
        def count(conn: Connection) -> int:
            return conn.execute(
                select(func.count()).select_from(t.messages).where(t.messages.c.conversation_id == conversation_id)
            ).scalar_one()

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

    def _insert(self, conn: Connection, conversation_id: str, batch: list[NewMessage]) -> list[Message]:
        now = self._clock()
        stored = []
        for message in batch:
            new_id = conn.execute(
                insert(t.messages).values(
                    conversation_id=conversation_id,
                    client_message_id=message.client_message_id,
                    sender=message.sender,
                    agent_id=message.agent_id,
                    text=message.text,
                    payload=json.dumps(message.payload) if message.payload is not None else None,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            stored.append(
                Message(
                    new_id,
                    conversation_id,
                    message.client_message_id,
                    message.sender,
                    message.agent_id,
                    message.text,
                    message.payload,
                    now,
                )
            )
        conn.execute(update(t.conversations).where(t.conversations.c.id == conversation_id).values(updated_at=now))
        return stored

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _conversation(row: Row) -> Conversation:
    return Conversation(
        id=row.id,
        customer_id=row.customer_id,
        channel=row.channel,
        state=row.state,
        priority=row.priority,
        reason=row.reason,
        summary=row.summary,
        handoff_id=row.handoff_id,
        assigned_agent_id=row.assigned_agent_id,
        queued_at=row.queued_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        customer_name=getattr(row, "customer_name", None),
    )


def _message(row: Row) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        client_message_id=row.client_message_id,
        sender=row.sender,
        agent_id=row.agent_id,
        text=row.text,
        payload=json.loads(row.payload) if row.payload else None,
        created_at=row.created_at,
    )


def _handoff(row: Row) -> Handoff:
    return Handoff(
        id=row.id,
        conversation_id=row.conversation_id,
        reason=row.reason,
        priority=row.priority,
        summary=row.summary,
        packet=json.loads(row.packet),
        source=row.source,
        requested_at=row.requested_at,
        agent_id=row.agent_id,
        claimed_at=row.claimed_at,
        first_reply_at=row.first_reply_at,
        resolved_at=row.resolved_at,
    )
