"""The record of agents' order actions: sums per conversation and per order, and reservations that two hub
processes racing on one database cannot both squeeze under a limit."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.store import schema as t
from bot.store.database import create_engine
from bot.store.order_actions import Cap, LimitReached, OrderAction, OrderActionLog
from tests.postgres import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A hub database with an agent and two conversations, on a SQLite file and on PostgreSQL (the scale-out
    mode, where the reservations are serialised by advisory locks)."""
    if request.param == "sqlite":
        yield prepared(f"sqlite:///{tmp_path / 'hub.db'}")
        return
    with fresh_postgres_database() as url:
        yield prepared(url)


def prepared(url: str) -> str:
    engine = create_engine(url)
    t.create_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            t.agents.insert().values(
                id=1,
                username="sam",
                display_name="Sam",
                password_hash="x",
                role="agent",
                capacity=3,
                active=True,
                created_at=t.utcnow(),
            )
        )
        conn.execute(t.customers.insert().values(id="cu1", channel="web", external_id="e", created_at=t.utcnow()))
        for conversation_id in ("c1", "c2"):
            conn.execute(
                t.conversations.insert().values(
                    id=conversation_id,
                    customer_id="cu1",
                    channel="web",
                    state="agent",
                    created_at=t.utcnow(),
                    updated_at=t.utcnow(),
                )
            )
    engine.dispose()
    return url


def refund(conversation_id: str, amount: str, order: str = "00054321") -> OrderAction:
    return OrderAction(conversation_id, 1, "refund", order, Decimal(amount), "broken")


def caps(conversation_id: str, order: str = "00054321", limit: str = "100") -> list[Cap]:
    return [
        Cap("refund", Decimal(limit), order_number=order),
        Cap("refund", Decimal(limit), conversation_id=conversation_id),
    ]


def test_sums_count_per_order_across_conversations_and_per_conversation_across_orders(database):
    log = OrderActionLog(create_engine(database))

    async def story() -> list[Decimal]:
        await log.reserve(refund("c1", "30"), caps("c1"), "pending")
        await log.reserve(refund("c2", "20"), caps("c2"), "pending")
        await log.reserve(refund("c1", "5", order="00000108"), caps("c1", order="00000108"), "pending")
        voucher = OrderAction("c1", 1, "voucher", None, Decimal("7"), "sorry")
        await log.reserve(voucher, [Cap("voucher", Decimal(20), conversation_id="c1")], "pending")
        return await log.given(
            [
                Cap("refund", Decimal(0), order_number="00054321"),
                Cap("refund", Decimal(0), conversation_id="c1"),
                Cap("voucher", Decimal(0), conversation_id="c1"),
                Cap("voucher", Decimal(0), conversation_id="c2"),
            ]
        )

    assert asyncio.run(story()) == [Decimal("50.00"), Decimal("35.00"), Decimal("7.00"), Decimal("0.00")]


def test_a_reservation_over_a_cap_records_nothing_and_says_what_was_given(database):
    log = OrderActionLog(create_engine(database))

    async def story() -> LimitReached:
        first = await log.reserve(refund("c1", "60"), caps("c1"), "pending")
        await log.settle(first, "refund R1 of €60.00", Decimal("60"))
        with pytest.raises(LimitReached) as caught:
            await log.reserve(refund("c2", "60"), caps("c2"), "pending")
        released = await log.reserve(refund("c2", "40"), caps("c2"), "pending")
        await log.release(released)
        assert await log.given(caps("c2")) == [Decimal("60.00"), Decimal("0.00")]
        return caught.value

    reached = asyncio.run(story())
    assert (reached.cap.order_number, reached.given, reached.left) == ("00054321", Decimal("60.00"), Decimal("40.00"))


def test_two_processes_racing_for_one_orders_limit_get_exactly_what_fits(database):
    """Two engines are two hub processes; 24 reservations of 10 race for a limit of 100: 10 fit."""
    logs = [OrderActionLog(create_engine(database)), OrderActionLog(create_engine(database))]

    limit = [Cap("refund", Decimal(100), order_number="00054321")]

    async def race() -> list[object]:
        return await asyncio.gather(
            *(logs[i % 2].reserve(refund(f"c{i % 2 + 1}", "10"), limit, "pending") for i in range(24)),
            return_exceptions=True,
        )

    outcomes = asyncio.run(race())
    assert sum(isinstance(o, int) for o in outcomes) == 10
    assert sum(isinstance(o, LimitReached) for o in outcomes) == 14
    assert asyncio.run(logs[0].given([Cap("refund", Decimal(0), order_number="00054321")])) == [Decimal("100.00")]
