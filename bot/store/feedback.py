"""Ratings and NPS asked after a conversation, and the answers, each credited to the bot or to one agent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.vocabulary import State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.records import Conversation, FeedbackAnswer, Message, NewMessage, insert_messages
from bot.store.schema import utcnow

T = TypeVar("T")
FEEDBACK_TABLES = {"csat": t.ratings, "nps": t.nps_scores}
FEEDBACK_SCALES = {"csat": range(1, 6), "nps": range(0, 11)}
"""The questions a customer may answer after a conversation, and the scores each takes."""


class FeedbackStore:
    """Questions are stored as system messages of the conversation, so the customer sees them in order."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock

    async def ask(
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
                resolved = row.state == State.RESOLVED and row.handoff_id is not None
                handoff_id, agent_id = (row.handoff_id, row.agent_id) if resolved else (None, None)
            (message,) = insert_messages(conn, conversation_id, [NewMessage("system", text, payload)], self._clock())
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

    async def answer(
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

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
