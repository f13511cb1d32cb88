"""How far each customer message got on its way to the bot, kept in SQL so that nothing acknowledged is dropped.

A message meant for the bot gets its routing row in the same transaction that stores it, so an acknowledged
message always has one. The row holds what the bot must read (a button's payload, the channel's metadata) and a
lease: while the lease runs, the hub that took the message is working on it; once it lapses, any hub may pick the
message up again (after a crash, a restart, a lost connection).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from bot.domain.vocabulary import ROUTING_DONE, Routing, State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.queue_reads import CONVERSATIONS
from bot.store.records import Conversation, Message, NewMessage, conversation_from, insert_messages
from bot.store.schema import utcnow

T = TypeVar("T")
PENDING = tuple(state.value for state in Routing if state not in ROUTING_DONE)


@dataclasses.dataclass(frozen=True)
class BotInput:
    """What the bot reads for a stored message: its text, or a button's payload, and the channel's metadata."""

    text: str
    metadata: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Route:
    message_id: int
    state: Routing
    bot_input: BotInput
    attempts: int
    conversation: Conversation
    """The conversation as it was when the message was taken: the router needs its owner, and reading it here
    saves a transaction per message."""

    @property
    def conversation_id(self) -> str:
        return self.conversation.id


OWNER = select(t.conversations.c.state).where(t.conversations.c.id == bindparam("id"))
"""Statements of every message's path, built once (see records.TOUCH_CONVERSATION)."""
INSERT_ROUTE = insert(t.routing)
NEXT_PENDING = (
    select(t.routing)
    .where(t.routing.c.conversation_id == bindparam("conversation_id"), t.routing.c.state.in_(PENDING))
    .order_by(t.routing.c.message_id)
    .limit(1)
)
UPDATE_ROUTE = update(t.routing).where(t.routing.c.message_id == bindparam("route_id"))
FINISH_PENDING = UPDATE_ROUTE.where(t.routing.c.state.in_(PENDING))
CONVERSATION = CONVERSATIONS.where(t.conversations.c.id == bindparam("id"))
STILL_BOT = select(t.conversations.c.id).where(
    t.conversations.c.id == bindparam("id"), t.conversations.c.state == State.BOT.value
)


def insert_route(
    conn: Connection, message: Message, bot_input: BotInput, now: dt.datetime, lease: dt.timedelta
) -> None:
    """The routing row of a message just stored; the caller holds the transaction that stored it (and so the
    conversation's row). A message written while an agent has the conversation is theirs: handed over at once, so
    an agent who resolves before the router gets to it cannot send it on to the bot."""
    owner = conn.execute(OWNER, {"id": message.conversation_id}).scalar_one()
    state = Routing.HANDED_OVER if owner == State.AGENT.value else Routing.STORED
    conn.execute(
        INSERT_ROUTE,
        {
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "state": state.value,
            "bot_text": bot_input.text,
            "bot_metadata": json.dumps(bot_input.metadata) if bot_input.metadata else None,
            "attempts": 0,
            "lease_until": now + lease,
            "updated_at": now,
        },
    )


class RoutingStore:
    def __init__(
        self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow, lease: dt.timedelta = dt.timedelta(seconds=60)
    ) -> None:
        self.engine = engine
        self._clock = clock
        self.lease = lease

    async def take_next(self, conversation_id: str) -> Route | None:
        """The conversation's oldest message not finished with, leased anew and its attempt counted.

        A message never tried is marked `sent` in the same write, as the router asks Rasa next (one write per
        message fewer); a hub that dies before asking leaves it `sent`, and the next hub, not finding it in Rasa's
        tracker, asks. The returned route keeps the state the message had when taken.
        The caller holds the conversation's lock, so messages of one conversation are taken one at a time, in order.
        """

        def take(conn: Connection) -> Route | None:
            row = conn.execute(NEXT_PENDING, {"conversation_id": conversation_id}).first()
            if row is None:
                return None
            now = self._clock()
            state = Routing.SENT.value if row.state == Routing.STORED.value else row.state
            values = {"attempts": row.attempts + 1, "lease_until": now + self.lease, "updated_at": now, "state": state}
            conn.execute(UPDATE_ROUTE, {"route_id": row.message_id, **values})
            metadata = json.loads(row.bot_metadata) if row.bot_metadata else None
            bot_input = BotInput(row.bot_text, metadata)
            conversation = conversation_from(conn.execute(CONVERSATION, {"id": conversation_id}).one())
            return Route(row.message_id, Routing(row.state), bot_input, row.attempts + 1, conversation)

        return await self._run(take)

    async def advance(self, message_id: int, state: Routing, *, lease: dt.timedelta | None = None) -> None:
        """Record how far the message got; `lease` extends the time this hub keeps it (a long wait for Rasa)."""

        def advance(conn: Connection) -> None:
            now = self._clock()
            values: dict[str, Any] = {"state": state.value, "updated_at": now}
            if lease is not None:
                values["lease_until"] = now + lease
            conn.execute(UPDATE_ROUTE, {"route_id": message_id, **values})

        await self._run(advance)

    async def store_replies(
        self, route: Route, replies: Iterable[NewMessage], state: Routing = Routing.REPLIED
    ) -> list[Message]:
        """Store the bot's answer and mark the message `replied` in one transaction: a crash cannot store it twice.

        `state` is `answered` when nothing follows the answer (no handoff, no rating question): one write fewer.
        The answer is stored only while the bot still has the conversation (an agent may have taken it meanwhile).
        """
        batch = list(replies)

        def store(conn: Connection) -> list[Message]:
            now = self._clock()
            done = conn.execute(
                FINISH_PENDING, {"route_id": route.message_id, "state": state.value, "updated_at": now}
            ).rowcount
            still_bot = conn.execute(STILL_BOT, {"id": route.conversation_id}).first()
            if not done or still_bot is None or not batch:
                return []
            return insert_messages(conn, route.conversation_id, batch, now)

        return await self._run(store)

    async def lapsed(self, limit: int = 200) -> list[str]:
        """Conversations with a message whose lease has lapsed, claimed for this hub (each by one hub only)."""

        def claim(conn: Connection) -> list[str]:
            now = self._clock()
            rows = conn.execute(
                select(t.routing.c.conversation_id, func.min(t.routing.c.message_id))
                .where(t.routing.c.state.in_(PENDING), t.routing.c.lease_until < now)
                .group_by(t.routing.c.conversation_id)
                .order_by(func.min(t.routing.c.message_id))
                .limit(limit)
            ).all()
            claimed = []
            for conversation_id, _first in rows:
                taken = conn.execute(
                    update(t.routing)
                    .where(
                        and_(
                            t.routing.c.conversation_id == conversation_id,
                            t.routing.c.state.in_(PENDING),
                            t.routing.c.lease_until < now,
                        )
                    )
                    .values(lease_until=now + self.lease)
                ).rowcount
                if taken:
                    claimed.append(conversation_id)
            return claimed

        return await self._run(claim)

    async def counts(self) -> dict[str, int]:
        """Messages by routing state (the soak's and the health page's figures)."""

        def count(conn: Connection) -> dict[str, int]:
            rows = conn.execute(select(t.routing.c.state, func.count()).group_by(t.routing.c.state)).all()
            return {state: 0 for state in Routing.words()} | {state: n for state, n in rows}

        return await self._run(count)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
