"""Agents' word that they checked who a customer is (`hub_identity_checks`).

The assistant verifies a customer by the order's email address; a customer who cannot do that (no access to the
mailbox, typed it wrong three times) can still be recognised by a person, by whatever the shop's policy allows:
the postcode and the last digits of the card, a call back. The agent then records that they checked, and how;
from then on the conversation counts as the order owner's (bot/core/order_desk.py), and the record says who
vouched for it, when, and on what grounds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from bot.domain.vocabulary import State
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.records import iso
from bot.store.schema import utcnow

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class IdentityCheck:
    """`agent_name` checked that the person in `conversation_id` is customer `customer_id`, the owner of
    `order_number`, in the way `how` says."""

    conversation_id: str
    agent_id: int
    agent_name: str
    order_number: str
    customer_id: str
    how: str
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_name": self.agent_name,
            "order_number": self.order_number,
            "customer_id": self.customer_id,
            "how": self.how,
            "at": iso(self.at),
        }


class IdentityChecks:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock

    async def record(
        self, conversation_id: str, agent_id: int, order_number: str, customer_id: str, how: str
    ) -> IdentityCheck | None:
        """Record the check if `agent_id` owns the conversation at this moment (in the same transaction);
        None, and nothing recorded, if not."""

        def add(conn: Connection) -> IdentityCheck | None:
            c = t.conversations.c
            owned = conn.execute(
                select(c.id).where(c.id == conversation_id, c.state == State.AGENT, c.assigned_agent_id == agent_id)
            ).first()
            if owned is None:
                return None
            now = self._clock()
            conn.execute(
                insert(t.identity_checks).values(
                    conversation_id=conversation_id,
                    agent_id=agent_id,
                    order_number=order_number,
                    customer_id=customer_id,
                    how=how,
                    created_at=now,
                )
            )
            return _latest(conn, conversation_id)

        return await self._run(add)

    async def latest(self, conversation_id: str) -> IdentityCheck | None:
        """The check that counts in the conversation: the last one recorded."""
        return await self._run(lambda conn: _latest(conn, conversation_id))

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)


def _latest(conn: Connection, conversation_id: str) -> IdentityCheck | None:
    ic = t.identity_checks.c
    row = conn.execute(
        select(t.identity_checks, t.agents.c.display_name)
        .join(t.agents, t.agents.c.id == ic.agent_id)
        .where(ic.conversation_id == conversation_id)
        .order_by(ic.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return IdentityCheck(
        conversation_id=row.conversation_id,
        agent_id=row.agent_id,
        agent_name=row.display_name,
        order_number=row.order_number,
        customer_id=row.customer_id,
        how=row.how,
        at=row.created_at,
    )
