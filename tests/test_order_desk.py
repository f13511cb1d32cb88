"""Agents' order actions: limits the shop sets, refusals explained, every action recorded by name."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.core.order_desk import OrderDesk, OrderDeskError
from bot.store import schema as t
from bot.store.agents import Agent
from bot.store.conversations import ConversationStore

SAM = Agent(1, "sam", "Sam", "agent", 3)


@pytest.fixture
def desk(shop):
    conversations = ConversationStore(shop._engine)
    conversations.create_schema()
    with shop._engine.begin() as conn:
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
        conn.execute(
            t.conversations.insert().values(
                id="conv1",
                customer_id="cu1",
                channel="web",
                state="agent",
                created_at=t.utcnow(),
                updated_at=t.utcnow(),
            )
        )
    return OrderDesk(shop, conversations, refund_limit="50.00", voucher_limit="20.00")


def run(coroutine):
    return asyncio.run(coroutine)


def recorded(shop):
    with shop._engine.connect() as conn:
        return conn.execute(select(t.order_actions)).all()


def test_a_cancel_is_done_recorded_and_explained_to_the_customer(desk, shop):
    result = run(desk.cancel(SAM, "conv1", "00012345", "customer changed mind"))
    assert "Sam has cancelled order #00012345" in result.customer_text
    assert run(shop.get_order("00012345")).status.value == "cancelled"
    (row,) = recorded(shop)
    assert (row.kind, row.agent_id, row.order_number) == ("cancel", 1, "00012345")


def test_refunds_above_the_limit_and_bad_amounts_are_refused(desk, shop):
    with pytest.raises(OrderDeskError, match="supervisor"):
        run(desk.refund(SAM, "conv1", "00054321", "50.01", "broken"))
    with pytest.raises(OrderDeskError):
        run(desk.refund(SAM, "conv1", "00054321", "lots", "broken"))
    with pytest.raises(OrderDeskError):
        run(desk.refund(SAM, "conv1", "00054321", "-5", "broken"))
    assert recorded(shop) == []
    result = run(desk.refund(SAM, "conv1", "00054321", "50", "broken"))
    assert result.record["amount"] == "50.00"


def test_the_shops_own_refusals_reach_the_agent(desk):
    with pytest.raises(OrderDeskError, match="left our warehouse"):
        run(desk.cancel(SAM, "conv1", "00123842", "x"))
    with pytest.raises(OrderDeskError, match="no order"):
        run(desk.cancel(SAM, "conv1", "99999999", "x"))


def test_vouchers_are_capped(desk):
    with pytest.raises(OrderDeskError, match="limited"):
        run(desk.voucher(SAM, "conv1", "C0001", "25", "EUR", "sorry"))
    assert "GW-" in run(desk.voucher(SAM, "conv1", "C0001", "20", "EUR", "sorry")).customer_text
