"""Agents' order actions: only for the customer verified in the conversation, within cumulative limits per role,
refusals explained, every action recorded by name."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.orders import shop_schema
from actions.orders.order_messages import day
from bot.core.order_desk import Limits, OrderDesk, OrderDeskError
from bot.domain.amounts import BadAmount
from bot.store import schema as t
from bot.store.agents import Agent
from bot.store.conversations import ConversationStore

SAM = Agent(1, "sam", "Sam", "agent", 3)
ALEX = Agent(2, "alex", "Alex", "supervisor", 3)
ANNA = "C0001"
BEN = "C0002"
"""The demo shop's Anna Freeman: orders 00054321 (delivered, €148.98, refundable, paid with PayPal), 00000108
(pending, €240.99), 00123842 (shipped). Ben Okafor (C0002) has 00012345 (processing) and 00077777 (returned, its
refund RF-… under way)."""


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
    "anna-pending": packet("00000108", ANNA),
    "anna-shipped": packet("00123842", ANNA),
    "ben-returned": packet("00077777", BEN),
}
"""Conversations in which Anna (or Ben) proved who she is, and one in which someone only typed her order number;
Sam has them all."""


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
                    assigned_agent_id=SAM.id,
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
    (refund,) = run(shop.refunds_for("00000108"))
    assert result.customer_text == (
        "Order #00000108 has been cancelled. A refund of €240.99 is on its way back to your Visa; "
        f"you should have it by {day(refund.expected_by)}."
    ), "the shop's voice, not the agent's, and when the money arrives as the order system says"
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


def test_a_refund_tells_the_customer_in_the_shops_voice_where_the_money_goes_and_when(desk, shop):
    result = run(desk.refund(SAM, "anna1", "00054321", "40", "earbuds broken"))
    (refund,) = run(shop.refunds_for("00054321"))
    order = run(shop.get_order("00054321"))
    assert result.customer_text == (
        f"A refund of €40.00 for order #00054321 is on its way back to your {order.payment_method}; "
        f"you should have it by {day(refund.expected_by)}. Reference: {refund.refund_id}."
    )
    assert "Sam" not in result.customer_text


def offers_of(desk, conversation_id: str, agent: Agent = SAM) -> dict:
    return panel_of(desk, conversation_id, agent)["offers"]


def panel_of(desk, conversation_id: str, agent: Agent = SAM) -> dict:
    return run(desk.panel(agent, conversation_id, CONVERSATIONS[conversation_id]))


def test_only_what_the_orders_state_allows_is_offered_and_the_rest_says_why(desk):
    delivered = offers_of(desk, "anna1")
    assert delivered["cancel"] == {
        "allowed": False,
        "why": "Only an order that has not shipped can be cancelled; this one is delivered.",
    }
    assert delivered["refund"] == {"allowed": True, "refundable": "148.98", "max": "100.00"}, (
        "the agent's limit caps it"
    )
    assert delivered["voucher"] == {"allowed": True, "max": "20.00"}
    assert delivered["money_goes_to"] == "the customer's PayPal"

    pending = offers_of(desk, "anna-pending")
    assert pending["cancel"] == {"allowed": True, "refund": "240.99"}
    assert pending["refund"] == {
        "allowed": False,
        "why": "The order has not shipped yet, so it can be cancelled instead.",
    }, "the shop's own reason"

    shipped = offers_of(desk, "anna-shipped")
    assert not shipped["cancel"]["allowed"] and "shipped" in shipped["cancel"]["why"]
    assert shipped["refund"]["allowed"] is False and "on its way" in shipped["refund"]["why"]


def test_the_refunds_under_way_and_the_customers_vouchers_are_shown_with_the_order(desk, shop):
    returned = panel_of(desk, "ben-returned")
    (under_way,) = returned["refunds"]
    assert (under_way["status"], under_way["order_number"]) == ("requested", "00077777")
    assert under_way["expected_by"] and under_way["requested_at"]
    assert returned["offers"]["refund"] == {
        "allowed": False,
        "why": f"Refund {under_way['refund_id']} for this order is already under way.",
    }
    run(desk.voucher(SAM, "anna1", "15", "EUR", "sorry"))
    run(desk.refund(SAM, "anna1", "00054321", "40", "broken"))
    panel = panel_of(desk, "anna2")
    assert [(r["amount"], r["status"]) for r in panel["refunds"]] == [("40.00", "requested")]
    assert [(v["amount"], v["customer_id"]) for v in panel["vouchers"]] == [("15.00", ANNA)]
    assert panel["offers"]["refund"]["allowed"] is False, "one refund at a time: the shop refuses a second"


def test_a_stranger_sees_no_owners_details_no_offers_no_refunds_and_is_told_not_verified(desk):
    panel = panel_of(desk, "stranger")
    assert panel["verification"] == {
        "verified": False,
        "customer_id": None,
        "order_verified": False,
        "how": None,
        "checked_by_agent": None,
    }
    assert panel["order"]["personal_details_hidden"] and "items" not in panel["order"]
    assert (panel["offers"], panel["refunds"], panel["vouchers"]) == (None, [], [])
    assert "Anna" not in str(panel) and "PayPal" not in str(panel)


def test_the_panel_says_how_the_assistant_verified_the_customer(desk):
    assert panel_of(desk, "anna1")["verification"]["how"] == "signed in at the shop"
    by_email = packet("00054321", ANNA) | {"customer": {"verified_customer_id": ANNA, "email": "anna@x.example"}}
    assert run(desk.panel(SAM, "anna1", by_email))["verification"]["how"] == "order email confirmed with the assistant"
    named = packet("00054321", ANNA) | {"customer": {"verified_customer_id": ANNA, "verified_by": "email"}}
    assert run(desk.panel(SAM, "anna1", named))["verification"]["how"] == "order email confirmed with the assistant"


def test_an_agents_recorded_check_unlocks_the_order_and_is_logged_with_who_when_and_how(desk, shop):
    refused(desk.refund(SAM, "stranger", "00054321", "5", "before the check"))
    check = run(desk.confirm_identity(SAM, "stranger", "  called her back on the number on the account "))
    assert (check.agent_name, check.customer_id, check.order_number) == ("Sam", ANNA, "00054321")
    panel = panel_of(desk, "stranger")
    assert panel["verification"]["verified"] and panel["verification"]["order_verified"]
    assert panel["verification"]["how"] == "checked by Sam: called her back on the number on the account"
    assert panel["verification"]["checked_by_agent"]["agent_name"] == "Sam"
    assert panel["order"]["customer_name"] == "Anna Freeman" and panel["offers"]["refund"]["allowed"]
    assert run(desk.refund(SAM, "stranger", "00054321", "5", "after the check")).record["amount"] == "5.00"
    (logged, refunded) = run(desk.taken("stranger"))
    assert logged["kind"] == "identity_check" and logged["agent_name"] == "Sam" and logged["at"]
    assert "called her back" in logged["result"] and refunded["kind"] == "refund"


def test_only_the_agent_who_has_the_conversation_can_vouch_and_only_with_a_note_of_how(desk, shop):
    error = refused(desk.confirm_identity(ALEX, "stranger", "asked for her postcode"))
    assert (error.status, error.code) == (403, "not_yours")
    assert refused(desk.confirm_identity(SAM, "stranger", " ok ")).code == "how_missing"
    assert refused(desk.confirm_identity(SAM, "anna1", "asked for her postcode")).code == "already_verified"
    assert panel_of(desk, "stranger")["verification"]["verified"] is False, "nothing was recorded"
    assert run(desk.taken("stranger")) == []
