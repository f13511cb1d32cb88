"""Agents' money actions through the console API, on the hub in-process with a fake Rasa and a private copy of the
demo shop: bound to the customer verified in the conversation, within cumulative limits per role, bad amounts
refused with 422, and a stranger who typed someone's order number shown as not verified."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from actions.orders import shop_schema
from tests.hub_clients import AgentClient
from tests.inprocess import FakeRasa, InProcessHub, hands_off, running_hub, says

ANNA = "C0001"
"""Anna Freeman's orders: 00054321 (delivered, €148.98), 00000108 (pending). Ben Okafor (C0002) has 00012345."""


def handoff(order_id: str, verified: str | None) -> list[dict]:
    packet = hands_off(order_id=order_id, entities={"order_id": [order_id]})
    packet["custom"]["handoff"]["customer"] = {"verified_customer_id": verified, "email": None}
    return [says("I'm bringing in a person from our team."), packet]


SCRIPT = {
    "anna, verified": handoff("00054321", ANNA),
    "a stranger who typed anna's number": handoff("00054321", None),
}


def with_hub(tmp_path: Path, story: Callable[[InProcessHub], Awaitable[None]]) -> None:
    async def main() -> None:
        async with running_hub(tmp_path / "hub.db", FakeRasa(SCRIPT)) as hub:
            await story(hub)

    asyncio.run(main())


async def claimed(hub: InProcessHub, who: str, agent: AgentClient) -> str:
    """A customer handed over by the bot saying `who`, claimed by `agent`: the conversation id."""
    customer = await hub.connected_customer()
    await customer.say(who)
    await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
    response = await agent.post(f"/api/conversations/{customer.conversation_id}/claim")
    assert response.status_code == 200, response.text
    return customer.conversation_id


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, response.text
    return response.status_code, body["error"]["code"], body["error"]["message"]


def pay_refunds(shop) -> None:
    """The shop pays what was requested: a refund under way blocks the next one on the same order."""
    with shop._engine.begin() as conn:
        conn.execute(shop_schema.refunds.update().values(status="paid"))


def test_the_view_says_who_is_verified_and_hides_a_strangers_view_of_the_owners_details(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        anna = await claimed(hub, "anna, verified", sam)
        stranger = await claimed(hub, "a stranger who typed anna's number", sam)

        view = (await sam.get(f"/api/conversations/{anna}")).json()
        assert view["verification"] == {
            "verified": True,
            "customer_id": ANNA,
            "order_verified": True,
            "how": "signed in at the shop",
            "checked_by_agent": None,
        }
        assert view["order"]["customer_email"] == "anna.freeman@example.com" and view["order"]["items"]

        view = (await sam.get(f"/api/conversations/{stranger}")).json()
        assert (view["verification"]["verified"], view["verification"]["order_verified"]) == (False, False)
        assert (view["offers"], view["refunds"], view["vouchers"]) == (None, [], [])
        order = view["order"]
        assert (order["number"], order["status"], order["personal_details_hidden"]) == ("00054321", "delivered", True)
        for personal in ("customer_name", "customer_email", "customer_id", "shipping_address", "items", "total"):
            assert personal not in order, personal
        assert "Anna" not in str(view) and "anna.freeman" not in str(view)

    with_hub(tmp_path, story)


def test_refunds_over_the_limit_in_two_steps_are_refused_saying_what_is_left(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        anna = await claimed(hub, "anna, verified", sam)
        refund = f"/api/conversations/{anna}/orders/00054321/refund"
        first = await sam.post(refund, {"amount": "60", "reason": "broken"})
        assert first.status_code == 201, first.text
        pay_refunds(shop)
        status, code, message = refusal(await sam.post(refund, {"amount": "60", "reason": "still broken"}))
        assert (status, code) == (422, "over_limit") and "€40.00 is left" in message
        limits = (await sam.get(f"/api/conversations/{anna}")).json()["limits"]
        assert (limits["refund"], limits["refund_left"], limits["voucher_left"]) == ("100.00", "40.00", "25.00")
        assert (await sam.post(refund, {"amount": 40, "reason": "the rest"})).status_code == 201
        actions = (await sam.get(f"/api/conversations/{anna}")).json()["order_actions"]
        assert [a["kind"] for a in actions] == ["refund", "refund"]

    with_hub(tmp_path, story)


def test_an_order_outside_the_conversation_or_an_unverified_customer_is_refused(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        anna = await claimed(hub, "anna, verified", sam)
        stranger = await claimed(hub, "a stranger who typed anna's number", sam)
        bens_order = f"/api/conversations/{anna}/orders/00012345/cancel"
        status, code, message = refusal(await sam.post(bens_order, {"reason": "asked"}))
        assert (status, code) == (403, "not_this_customer") and "verified customer" in message
        for action in ("cancel", "refund"):
            path = f"/api/conversations/{stranger}/orders/00054321/{action}"
            status, code, message = refusal(await sam.post(path, {"amount": "5", "reason": "asked"}))
            assert (status, code) == (403, "not_verified") and "Verify the customer first" in message
        status, code, _ = refusal(
            await sam.post(f"/api/conversations/{stranger}/voucher", {"amount": "5", "currency": "EUR", "reason": "x"})
        )
        assert (status, code) == (403, "not_verified")
        assert (await sam.get(f"/api/conversations/{anna}")).json()["order_actions"] == []

    with_hub(tmp_path, story)


@pytest.mark.parametrize(
    "amount",
    ["NaN", "Infinity", "-5", -5, "0", "12.345", 0.001, "1e999", "1000000.01", 123456789012, [1], True, None, "ten"],
)
def test_bad_amounts_are_a_clean_422(tmp_path, shop, amount):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        anna = await claimed(hub, "anna, verified", sam)
        body = {"reason": "broken"} | ({"amount": amount} if amount is not None else {})
        status, code, _ = refusal(await sam.post(f"/api/conversations/{anna}/orders/00054321/refund", body))
        assert (status, code) == (422, "bad_amount")
        status, code, _ = refusal(await sam.post(f"/api/conversations/{anna}/voucher", body | {"currency": "EUR"}))
        assert (status, code) == (422, "bad_amount")

    with_hub(tmp_path, story)


def test_json_nan_and_infinity_literals_are_a_clean_422(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        anna = await claimed(hub, "anna, verified", sam)
        for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
            response = await sam.http.post(
                f"/api/conversations/{anna}/orders/00054321/refund",
                content=f'{{"amount": {literal}, "reason": "broken"}}',
                headers={"content-type": "application/json"},
            )
            assert refusal(response)[:2] == (422, "bad_amount"), literal

    with_hub(tmp_path, story)


def test_a_voucher_goes_to_the_verified_customer_never_to_a_customer_id_in_the_body(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        anna = await claimed(hub, "anna, verified", sam)
        path = f"/api/conversations/{anna}/voucher"
        status, code, _ = refusal(
            await sam.post(path, {"customer_id": "C0002", "amount": "10", "currency": "EUR", "reason": "x"})
        )
        assert (status, code) == (403, "not_this_customer")
        given = await sam.post(path, {"amount": "10", "currency": "EUR", "reason": "sorry"})
        assert given.status_code == 201 and given.json()["result"]["customer_id"] == ANNA
        with shop._engine.connect() as conn:
            assert conn.execute(select(shop_schema.vouchers.c.customer_id)).scalars().all() == [ANNA]
        status, code, message = refusal(await sam.post(path, {"amount": "20", "currency": "EUR", "reason": "x"}))
        assert (status, code) == (422, "over_limit") and "€15.00 is left" in message

    with_hub(tmp_path, story)


def test_supervisors_have_their_own_higher_limits_and_me_tells_each_their_own(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam, alex = await hub.agent("sam"), await hub.agent("alex")
        assert (await sam.get("/api/me")).json()["order_limits"] == {
            "role": "agent",
            "refund": "100.00",
            "voucher": "25.00",
        }
        assert (await alex.get("/api/me")).json()["order_limits"] == {
            "role": "supervisor",
            "refund": "500.00",
            "voucher": "100.00",
        }
        anna = await claimed(hub, "anna, verified", alex)
        refund = await alex.post(f"/api/conversations/{anna}/orders/00054321/refund", {"amount": "120", "reason": "x"})
        assert refund.status_code == 201, refund.text
        voucher = await alex.post(
            f"/api/conversations/{anna}/voucher", {"amount": "60", "currency": "EUR", "reason": "x"}
        )
        assert voucher.status_code == 201, voucher.text
        limits = (await alex.get(f"/api/conversations/{anna}")).json()["limits"]
        assert (limits["refund_left"], limits["voucher_left"]) == ("380.00", "40.00")

    with_hub(tmp_path, story)


def test_what_the_agent_did_reaches_the_customer_as_a_message_from_the_shop(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        customer = await hub.connected_customer()
        await customer.say("anna, verified")
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        anna = customer.conversation_id
        assert (await sam.post(f"/api/conversations/{anna}/claim")).status_code == 200
        given = await sam.post(f"/api/conversations/{anna}/orders/00054321/refund", {"amount": "40", "reason": "x"})
        assert given.status_code == 201, given.text
        told = await customer.wait_for(
            lambda e: e["type"] == "message" and "A refund of €40.00" in e["message"]["text"]
        )
        message = told["message"]
        assert message["sender"] == "system" and not message["payload"]
        assert "Sam" not in message["text"] and "you should have it by" in message["text"]

    with_hub(tmp_path, story)


def test_an_agent_vouches_for_a_stranger_only_in_their_own_conversation_and_it_unlocks_the_order(tmp_path, shop):
    async def story(hub: InProcessHub) -> None:
        sam, kim, robin = await hub.agent("sam"), await hub.agent("kim"), await hub.agent("robin")
        stranger = await claimed(hub, "a stranger who typed anna's number", sam)
        check = f"/api/conversations/{stranger}/identity-check"
        how = {"how": "asked for the postcode and the last four card digits"}
        assert refusal(await kim.post(check, how))[:2] == (403, "not_yours"), "not Kim's conversation"
        assert refusal(await robin.post(check, how))[:2] == (403, "forbidden"), "trainers take no conversations"
        assert refusal(await sam.post(check, {"how": " "}))[:2] == (400, "missing")
        assert refusal(await sam.post(check, {"how": "ok"}))[:2] == (422, "how_missing")
        assert (await sam.get(f"/api/conversations/{stranger}")).json()["verification"]["verified"] is False

        recorded = await sam.post(check, how)
        assert recorded.status_code == 201, recorded.text
        view = (await sam.get(f"/api/conversations/{stranger}")).json()
        assert view["verification"]["how"] == "checked by Sam (agent): " + how["how"]
        assert view["order"]["customer_name"] == "Anna Freeman" and view["offers"]["refund"]["allowed"]
        assert [a["kind"] for a in view["order_actions"]] == ["identity_check"]
        assert refusal(await sam.post(check, how))[:2] == (422, "already_verified")
        refund = await sam.post(f"/api/conversations/{stranger}/orders/00054321/refund", {"amount": "5", "reason": "x"})
        assert refund.status_code == 201, refund.text

    with_hub(tmp_path, story)
