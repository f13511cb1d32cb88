"""Ratings and NPS asked after a conversation, and the answers, each credited to the bot or to one agent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import and_, insert, literal, select, union_all, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.domain.vocabulary import State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.records import Conversation, FeedbackAnswer, Message, NewMessage, insert_messages, iso
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

    async def answers_of(self, conversation_id: str) -> list[dict[str, Any]]:
        """The customer's ratings and NPS answers in this conversation, oldest first, for the agents' transcript:
        score and scale, comment, whom it credits, and the question it answered (`after`: that question's message
        id; the answer is written in the same transaction that marks its question answered, at the same time)."""
        requests = t.feedback_requests

        def answers(question: str) -> Any:
            table = FEEDBACK_TABLES[question]
            answered = and_(
                requests.c.conversation_id == table.c.conversation_id,
                requests.c.question == question,
                requests.c.answered_at == table.c.created_at,
            )
            return (
                select(
                    literal(question).label("question"),
                    table.c.id,
                    table.c.score,
                    table.c.comment,
                    table.c.created_at,
                    table.c.agent_id,
                    t.agents.c.display_name.label("agent_name"),
                    requests.c.message_id.label("after"),
                )
                .select_from(table)
                .outerjoin(requests, answered)
                .outerjoin(t.agents, t.agents.c.id == table.c.agent_id)
                .where(table.c.conversation_id == conversation_id)
            )

        def load(conn: Connection) -> list[dict[str, Any]]:
            query = union_all(*(answers(question) for question in FEEDBACK_TABLES)).subquery()
            rows = conn.execute(select(query).order_by(query.c.created_at, query.c.id)).all()
            return [
                {
                    "question": row.question,
                    "score": row.score,
                    "scale": FEEDBACK_SCALES[row.question][-1],
                    "comment": row.comment,
                    "at": iso(row.created_at),
                    "after": row.after,
                    "credited_to": "agent" if row.agent_id else "bot",
                    "agent_name": row.agent_name,
                }
                for row in rows
            ]

        return await self._run(load)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)
