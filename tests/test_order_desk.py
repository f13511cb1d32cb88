"""Agents' order actions: only for the customer verified in the conversation, within cumulative limits per role,
refusals explained, every action recorded by name."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.orders import shop_schema
from bot.core.order_desk import Limits, OrderDesk, OrderDeskError
from bot.domain.amounts import BadAmount
from bot.store import schema as t
from bot.store.agents import Agent
from bot.store.conversations import ConversationStore

SAM = Agent(1, "sam", "Sam", "agent", 3)
ALEX = Agent(2, "alex", "Alex", "supervisor", 3)
ANNA = "C0001"
"""The demo shop's Anna Freeman: orders 00054321 (delivered, €148.98, refundable), 00000108 (pending),
00123842 (shipped). Ben Okafor (C0002) has 00012345."""


def packet(order_id: str | None, verified: str | None) -> dict:
    return {
        "reason": "requested",
        "priority": "normal",
        "summary": "s",
        "order_id": order_id,
        "entities": {},
        "customer": {"verified_customer_id": verified, "email": None},
    }


CONVERSATIONS = {
    "anna1": packet("00054321", ANNA),
    "anna2": packet("00054321", ANNA),
    "stranger": packet("00054321", None),
}
"""Two conversations in which Anna proved who she is, and one in which someone only typed her order number."""


@pytest.fixture
def desk(shop):
    conversations = ConversationStore(shop._engine)
    conversations.create_schema()
    with shop._engine.begin() as conn:
        for agent in (SAM, ALEX):
            conn.execute(
                t.agents.insert().values(
                    id=agent.id,
                    username=agent.username,
                    display_name=agent.display_name,
                    password_hash="x",
                    role=agent.role,
                    capacity=3,
                    active=True,
                    created_at=t.utcnow(),
                )
            )
        conn.execute(t.customers.insert().values(id="cu1", channel="web", external_id="e", created_at=t.utcnow()))
        for number, (conversation_id, content) in enumerate(CONVERSATIONS.items(), start=1):
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
            conn.execute(
                t.handoffs.insert().values(
                    id=number,
                    conversation_id=conversation_id,
                    reason="requested",
                    priority="normal",
                    summary="s",
                    packet=json.dumps(content),
                    source="rasa",
                    requested_at=t.utcnow(),
                )
            )
            conn.execute(
                t.conversations.update().where(t.conversations.c.id == conversation_id).values(handoff_id=number)
            )
    limits = {"agent": Limits(Decimal("100.00"), Decimal("20.00")), "supervisor": Limits(Decimal(500), Decimal(100))}
    return OrderDesk(shop, conversations, limits)


def run(coroutine):
    return asyncio.run(coroutine)


def recorded(shop):
    with shop._engine.connect() as conn:
        return conn.execute(select(t.order_actions).order_by(t.order_actions.c.id)).all()


def pay_refunds(shop) -> None:
    """The shop pays what was requested: a refund under way blocks the next one on the same order."""
    with shop._engine.begin() as conn:
        conn.execute(shop_schema.refunds.update().values(status="paid", paid_at=t.utcnow()))


def refused(coroutine) -> OrderDeskError:
    with pytest.raises(OrderDeskError) as caught:
        run(coroutine)
    return caught.value


def test_a_cancel_for_the_verified_customer_is_done_recorded_and_explained(desk, shop):
    result = run(desk.cancel(SAM, "anna1", "00000108", "customer changed mind"))
    assert "Sam has cancelled order #00000108" in result.customer_text
    assert run(shop.get_order("00000108")).status.value == "cancelled"
    (row,) = recorded(shop)
    assert (row.kind, row.agent_id, row.order_number, row.result) == ("cancel", 1, "00000108", result.summary)


def test_refunds_add_up_per_order_and_the_second_over_the_limit_says_what_is_left(desk, shop):
    assert run(desk.refund(SAM, "anna1", "00054321", "60", "broken")).record["amount"] == "60.00"
    pay_refunds(shop)
    error = refused(desk.refund(SAM, "anna1", "00054321", "60", "broken"))
    assert (error.status, error.code) == (422, "over_limit")
    assert "€100.00 for agents" in error.message and "€40.00 is left" in error.message
    assert "supervisor" in error.message
    error = refused(desk.refund(SAM, "anna2", "00054321", "41", "broken in another chat"))
    assert "on order #00054321" in error.message, "the order's limit counts every conversation"
    assert run(desk.refund(SAM, "anna2", "00054321", "40", "broken")).record["amount"] == "40.00"
    assert [(r.kind, r.amount) for r in recorded(shop)] == [("refund", Decimal("60.00")), ("refund", Decimal("40.00"))]
    assert sorted(str(r.amount) for r in run(shop.refunds_for("00054321"))) == ["40.00", "60.00"]


def test_what_is_left_is_told_per_conversation_and_per_order(desk):
    run(desk.refund(SAM, "anna1", "00054321", "30.50", "late"))
    allowance = run(desk.allowance(SAM, "anna2", "00054321"))
    assert allowance == {
        "role": "agent",
        "refund": "100.00",
        "voucher": "20.00",
        "refund_left_in_conversation": "100.00",
        "refund_left_on_order": "69.50",
        "refund_left": "69.50",
        "voucher_left": "20.00",
    }
    assert run(desk.allowance(ALEX, "anna1", None))["refund_left"] == "469.50"


def test_supervisors_have_their_own_higher_limits_counting_what_agents_gave(desk, shop):
    run(desk.refund(SAM, "anna1", "00054321", "100", "broken"))
    pay_refunds(shop)
    assert "nothing is left" in refused(desk.refund(SAM, "anna1", "00054321", "1", "more")).message
    assert run(desk.refund(ALEX, "anna1", "00054321", "48.98", "the rest")).record["amount"] == "48.98"
    assert run(desk.voucher(ALEX, "anna1", "100", "EUR", "sorry")).record["amount"] == "100.00"
    assert "€100.00 for supervisors" in refused(desk.voucher(ALEX, "anna1", "0.01", "EUR", "more")).message


def test_two_refunds_at_the_same_moment_cannot_both_pass_the_limit(desk, shop):
    async def both():
        return await asyncio.gather(
            *(desk.refund(SAM, "anna1", "00054321", "60", f"at once {i}") for i in range(2)), return_exceptions=True
        )

    outcomes = run(both())
    assert sum(isinstance(o, OrderDeskError) and o.code == "over_limit" for o in outcomes) == 1
    assert [r.amount for r in recorded(shop)] == [Decimal("60.00")]
    assert len(run(shop.refunds_for("00054321"))) == 1


def test_only_the_verified_customers_orders_can_be_touched(desk, shop):
    error = refused(desk.refund(SAM, "anna1", "00012345", "5", "not hers"))
    assert (error.status, error.code) == (403, "not_this_customer")
    error = refused(desk.cancel(SAM, "anna1", "00012345", "not hers"))
    assert (error.status, error.code) == (403, "not_this_customer")
    for action in (
        desk.refund(SAM, "stranger", "00054321", "5", "typed the number"),
        desk.cancel(SAM, "stranger", "00000108", "typed the number"),
        desk.voucher(SAM, "stranger", "5", "EUR", "typed the number"),
    ):
        error = refused(action)
        assert (error.status, error.code) == (403, "not_verified")
        assert "Verify the customer first" in error.message
    assert recorded(shop) == []
    assert run(shop.get_order("00012345")).status.value == "processing"


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-5", "0", "1e3", "12.345", "1000000.01", "lots", "", None])
def test_bad_amounts_are_refused_before_anything_happens(desk, shop, amount):
    with pytest.raises(BadAmount) as caught:
        run(desk.refund(SAM, "anna1", "00054321", amount, "broken"))
    assert caught.value.status == 422
    assert recorded(shop) == []


def test_vouchers_go_to_the_verified_customer_and_add_up_per_conversation(desk, shop):
    assert "GW-" in run(desk.voucher(SAM, "anna1", "15", "EUR", "sorry", claimed_customer_id=ANNA)).customer_text
    error = refused(desk.voucher(SAM, "anna1", "10", "EUR", "more"))
    assert "€5.00 is left" in error.message and "in one conversation" in error.message
    error = refused(desk.voucher(SAM, "anna1", "5", "EUR", "for someone else", claimed_customer_id="C0002"))
    assert (error.status, error.code) == (403, "not_this_customer")
    assert [r.kind for r in recorded(shop)] == ["voucher"]


def test_the_shops_own_refusals_reach_the_agent_and_free_the_reservation(desk, shop):
    assert "left our warehouse" in refused(desk.cancel(SAM, "anna1", "00123842", "x")).message
    assert "no order" in refused(desk.cancel(SAM, "anna1", "99999999", "x")).message
    assert "on its way" in refused(desk.refund(SAM, "anna1", "00123842", "40", "x")).message
    assert recorded(shop) == []
    assert run(desk.allowance(SAM, "anna1", "00123842"))["refund_left"] == "100.00"
