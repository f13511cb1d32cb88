"""What agents did to orders (`hub_order_actions`), and the sums the cumulative limits are checked against.

Money an agent gives is reserved before the order system is asked: `reserve` records the action and checks
every cap in one transaction, so two requests at the same moment cannot both fit under a limit that only
one of them fits under. The transaction is serialised on the database itself, which holds when several hub
processes share it: on SQLite the reservation's INSERT comes first and takes the database's write lock before
the sums are read; on PostgreSQL a transaction-scoped advisory lock per order and per conversation is taken
first. The caller then `settle`s the reservation with the order system's answer, or `release`s it when the
order system refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from bot.domain.errors import FrontlineError
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.records import iso
from bot.store.schema import utcnow

T = TypeVar("T")
ZERO = Decimal("0.00")


@dataclasses.dataclass(frozen=True)
class OrderAction:
    """One action an agent takes in a conversation; `order_number` is None for a voucher."""

    conversation_id: str
    agent_id: int
    kind: str
    order_number: str | None
    amount: Decimal | None
    reason: str


@dataclasses.dataclass(frozen=True)
class Cap:
    """At most `limit` of `kind` in total over one conversation's actions, or over one order's (in any
    conversation): exactly one of `conversation_id` and `order_number` is given."""

    kind: str
    limit: Decimal
    conversation_id: str | None = None
    order_number: str | None = None


class LimitReached(FrontlineError):
    """Taking the action would pass `cap`; `given` is what was already given under it."""

    status = 422
    code = "over_limit"

    def __init__(self, cap: Cap, given: Decimal) -> None:
        super().__init__(f"{cap.kind} limit {cap.limit} reached: {given} given already")
        self.cap = cap
        self.given = given

    @property
    def left(self) -> Decimal:
        return max(self.cap.limit - self.given, ZERO)


class OrderActionLog:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock

    async def record(self, action: OrderAction, result: str) -> int:
        """An action that needs no reservation (a cancel: the shop's policy sets the money, not the agent)."""
        return await self._run(lambda conn: self._insert(conn, action, result))

    async def reserve(self, action: OrderAction, caps: Sequence[Cap], pending: str) -> int:
        """Record `action` as `pending` if it fits under every cap; `LimitReached` (nothing recorded) if not."""

        def reserve(conn: Connection) -> int:
            _serialise(conn, action)
            action_id = self._insert(conn, action, pending)
            for cap in caps:
                total = _given(conn, cap)
                if total > cap.limit:
                    raise LimitReached(cap, total - (action.amount or ZERO))
            return action_id

        return await self._run(reserve)

    async def settle(self, action_id: int, result: str, amount: Decimal | None) -> None:
        """The order system did it: the record says what was done, for the amount actually given."""
        await self._run(
            lambda conn: conn.execute(
                update(t.order_actions).where(t.order_actions.c.id == action_id).values(result=result, amount=amount)
            )
        )

    async def release(self, action_id: int) -> None:
        """The order system refused: nothing was given, so nothing counts against the limits."""
        await self._run(lambda conn: conn.execute(delete(t.order_actions).where(t.order_actions.c.id == action_id)))

    async def given(self, caps: Sequence[Cap]) -> list[Decimal]:
        """What was already given under each cap, in order (reservations still under way included)."""
        return await self._run(lambda conn: [_given(conn, cap) for cap in caps])

    async def of(self, conversation_id: str) -> list[dict[str, Any]]:
        """What agents did in the conversation, oldest first, with who did it (the console's record)."""

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
                    "at": iso(r.created_at),
                }
                for r in rows
            ]

        return await self._run(load)

    def _insert(self, conn: Connection, action: OrderAction, result: str) -> int:
        row = conn.execute(
            insert(t.order_actions).values(**dataclasses.asdict(action), result=result, created_at=self._clock())
        )
        return int(row.inserted_primary_key[0])

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, work)


def _given(conn: Connection, cap: Cap) -> Decimal:
    c = t.order_actions.c
    where = c.conversation_id == cap.conversation_id if cap.conversation_id else c.order_number == cap.order_number
    total = conn.execute(select(func.sum(c.amount)).where(c.kind == cap.kind, where)).scalar_one()
    return Decimal(total).quantize(ZERO) if total is not None else ZERO


def _serialise(conn: Connection, action: OrderAction) -> None:
    """On PostgreSQL, wait for any other reservation on the same order or conversation to commit (keys taken in
    one order, so two never wait for each other). SQLite needs nothing here: its writers take turns."""
    if conn.dialect.name != "postgresql":
        return
    names = [f"conversation:{action.conversation_id}"]
    if action.order_number:
        names.append(f"order:{action.order_number}")
    for key in sorted(_lock_key(name) for name in names):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
