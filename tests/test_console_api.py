"""The agent console API: sessions and roles, ownership enforced, order actions recorded, bad input refused."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from sqlalchemy import select

from actions.orders import shop_schema
from actions.orders.order_system import OrderStatus
from actions.orders.sql_order_system import SqlOrderSystem
from bot.domain.tokens import sign_customer_id
from bot.store.database import create_engine
from tests.hub_clients import AgentClient, CustomerClient


def run(scenario):
    return asyncio.run(scenario())


async def queued_customer(hub, text: str = "I want to speak to a person", shop_customer=None) -> CustomerClient:
    """A customer handed to the queue; `shop_customer` (id and signature) when the shop page vouches for them."""
    customer = CustomerClient(hub.hub_url)
    await customer.connect(**({"shop_customer": shop_customer} if shop_customer else {}))
    await customer.say(text)
    await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
    return customer


async def logged_in(hub, username: str = "demo.agent") -> AgentClient:
    agent = AgentClient(hub.hub_url)
    assert (await agent.login(username)).status_code == 200
    return agent


def test_everything_needs_a_session(hub):
    with httpx.Client(base_url=hub.hub_url) as http:
        assert http.get("/api/queue").status_code == 401
        assert http.get("/api/me", cookies={"frontline_session": "forged-or-expired"}).status_code == 401
        assert http.post("/api/conversations/x/claim", json={}).status_code == 401
        wrong = http.post("/api/login", json={"username": "demo.agent", "password": "wrong password"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "bad_credentials"


def test_login_sets_an_httponly_strict_cookie_and_logout_ends_the_session(hub):
    with httpx.Client(base_url=hub.hub_url) as http:
        response = http.post("/api/login", json={"username": "demo.agent", "password": "frontline-demo"})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        token = response.cookies["frontline_session"]
        assert http.get("/api/me").json()["agent"]["username"] == "demo.agent"
        http.post("/api/logout", json={})
        assert http.get("/api/me", cookies={"frontline_session": token}).status_code == 401


def test_changes_must_be_same_origin_json(hub):
    async def scenario():
        agent = await logged_in(hub)
        form = await agent.http.post(
            "/api/conversations/x/claim", content=b"a=1", headers={"Content-Type": "text/plain"}
        )
        foreign = await agent.http.post(
            "/api/conversations/x/claim", json={}, headers={"Origin": "https://evil.example"}
        )
        broken = await agent.http.post(
            "/api/conversations/x/notes", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        missing = await agent.post("/api/conversations/does-not-exist/claim")
        await agent.close()
        return form, foreign, broken, missing

    form, foreign, broken, missing = run(scenario)
    assert (form.status_code, foreign.status_code, broken.status_code) == (415, 403, 400)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_two_agents_claiming_at_once_exactly_one_wins(hub):
    async def scenario():
        customer = await queued_customer(hub)
        sam, alex = await logged_in(hub), await logged_in(hub, "demo.supervisor")
        path = f"/api/conversations/{customer.conversation_id}/claim"
        results = await asyncio.gather(sam.post(path), alex.post(path))
        for client in (customer, sam, alex):
            await client.close()
        return sorted(r.status_code for r in results)

    assert run(scenario) == [200, 409]


def test_only_the_owner_may_write_and_nothing_is_stored_otherwise(hub):
    async def scenario():
        customer = await queued_customer(hub)
        sam, alex = await logged_in(hub), await logged_in(hub, "demo.supervisor")
        base = f"/api/conversations/{customer.conversation_id}"
        before_claim = await sam.post(f"{base}/messages", {"text": "hello?"})
        await sam.post(f"{base}/claim")
        intruder = await alex.post(f"{base}/messages", {"text": "I am not the owner"})
        trainer = await logged_in(hub, "demo.trainer")
        trainer_claim = await trainer.post(f"{base}/claim")
        transcript = (await sam.get(base)).json()["messages"]
        for client in (customer, sam, alex, trainer):
            await client.close()
        return before_claim, intruder, trainer_claim, transcript

    before_claim, intruder, trainer_claim, transcript = run(scenario)
    assert before_claim.status_code == 409 and intruder.status_code == 409
    assert trainer_claim.status_code in {403, 409}
    assert not [m for m in transcript if m["text"] in {"hello?", "I am not the owner"}]


def test_private_notes_reach_agents_and_never_the_customer(hub):
    secret = "VIP customer; '; DROP TABLE hub_notes; -- <b>bold</b>"

    async def scenario():
        customer = await queued_customer(hub)
        sam = await logged_in(hub)
        base = f"/api/conversations/{customer.conversation_id}"
        await sam.post(f"{base}/claim")
        added = await sam.post(f"{base}/notes", {"text": secret})
        await asyncio.sleep(0.5)
        view = (await sam.get(base)).json()
        for client in (customer, sam):
            await client.close()
        return customer, added, view

    customer, added, view = run(scenario)
    assert added.status_code == 201
    assert [n["text"] for n in view["notes"]] == [secret]
    assert not any(secret in str(event) for event in customer.events)


def test_transfer_tells_the_customer_who_has_taken_over(hub):
    async def scenario():
        customer = await queued_customer(hub)
        sam, alex = await logged_in(hub), await logged_in(hub, "demo.supervisor")
        base = f"/api/conversations/{customer.conversation_id}"
        await sam.post(f"{base}/claim")
        moved = await sam.post(f"{base}/transfer", {"agent_id": alex.agent["id"]})
        state = await customer.wait_for(
            lambda e: e["type"] == "state" and (e.get("agent") or {}).get("name") == alex.agent["display_name"]
        )
        alex_reply = await alex.post(f"{base}/messages", {"text": "Alex here"})
        sam_reply = await sam.post(f"{base}/messages", {"text": "Sam again"})
        nowhere = await alex.post(f"{base}/transfer", {"agent_id": 99999})
        for client in (customer, sam, alex):
            await client.close()
        return moved, state, alex_reply, sam_reply, nowhere

    moved, state, alex_reply, sam_reply, nowhere = run(scenario)
    assert moved.status_code == 200 and state["state"] == "agent"
    assert (alex_reply.status_code, sam_reply.status_code, nowhere.status_code) == (201, 409, 400)


def untouched_orders(hub) -> tuple[str, str, str]:
    """A customer with a recently placed pending order and a recently delivered one that no test has refunded
    (the tests share the shop): (customer id, pending, delivered)."""
    engine = create_engine(f"sqlite:///{hub.shop_db}")
    orders = shop_schema.orders
    recent = dt.datetime.now() - dt.timedelta(days=20)
    untouched = orders.c.number.not_in(select(shop_schema.refunds.c.order_number))
    with engine.connect() as conn:
        delivered = conn.execute(
            select(orders.c.customer_id, orders.c.number)
            .where(orders.c.status == "delivered", untouched, orders.c.delivered_at > recent)
            .order_by(orders.c.number.desc())
        ).all()
        for customer_id, number in delivered:
            pending = conn.execute(
                select(orders.c.number).where(
                    orders.c.customer_id == customer_id, orders.c.status == "pending", orders.c.placed_at > recent
                )
            ).scalar()
            if pending:
                return customer_id, pending, number
    raise AssertionError("the demo shop has no customer with both a pending and an untouched delivered order")


def test_agents_act_on_the_verified_customers_orders_within_limits_and_every_action_is_recorded(hub):
    customer_id, pending, number = untouched_orders(hub)
    vouched = {"id": customer_id, "signature": sign_customer_id(customer_id, "frontline-dev-channel-secret")}

    async def scenario():
        customer = await queued_customer(hub, f"please let me talk to a human about order {pending}", vouched)
        sam = await logged_in(hub)
        base = f"/api/conversations/{customer.conversation_id}"
        not_yet_mine = await sam.post(f"{base}/orders/{pending}/cancel", {"reason": "customer asked"})
        await sam.post(f"{base}/claim")
        cancelled = await sam.post(f"{base}/orders/{pending}/cancel", {"reason": "customer asked"})
        too_much = await sam.post(f"{base}/orders/{number}/refund", {"amount": "1000", "reason": "broken"})
        refunded = await sam.post(f"{base}/orders/{number}/refund", {"amount": "20.00", "reason": "one item broken"})
        voucher = await sam.post(
            f"{base}/voucher", {"customer_id": customer_id, "amount": "10", "currency": "EUR", "reason": "sorry"}
        )
        told = await customer.wait_for(lambda e: e["type"] == "message" and "voucher" in e["message"]["text"])
        view = (await sam.get(base)).json()
        for client in (customer, sam):
            await client.close()
        return not_yet_mine, cancelled, too_much, refunded, voucher, told, view

    not_yet_mine, cancelled, too_much, refunded, voucher, told, view = run(scenario)
    assert not_yet_mine.status_code == 403
    assert cancelled.status_code == 201 and too_much.status_code == 422
    assert (view["verification"]["verified"], view["verification"]["customer_id"]) == (True, customer_id)
    assert refunded.status_code == 201 and voucher.status_code == 201
    assert told["message"]["sender"] == "system", "the shop tells the customer, not the agent in the third person"
    assert "Sam" not in told["message"]["text"]
    assert [a["kind"] for a in view["order_actions"]] == ["cancel", "refund", "voucher"]
    assert {a["agent_name"] for a in view["order_actions"]} == {"Sam (demo agent)"}
    shop = SqlOrderSystem(create_engine(f"sqlite:///{hub.shop_db}"))
    assert asyncio.run(shop.get_order(pending)).status == OrderStatus.CANCELLED
    refunds = asyncio.run(shop.refunds_for(number))
    assert any(r.reason == "one item broken" for r in refunds)


def test_canned_replies_are_read_by_agents_and_written_by_supervisors(hub):
    async def scenario():
        sam, alex = await logged_in(hub), await logged_in(hub, "demo.supervisor")
        listed = (await sam.get("/api/canned-replies")).json()["canned_replies"]
        refused = await sam.post("/api/canned-replies", {"title": "Returns", "text": "Returns are free."})
        added = await alex.post("/api/canned-replies", {"title": "Returns", "text": "Returns are free."})
        again = await alex.post("/api/canned-replies", {"title": "Returns", "text": "Twice"})
        for client in (sam, alex):
            await client.close()
        return listed, refused, added, again

    listed, refused, added, again = run(scenario)
    assert {"Greeting", "Checking", "Closing"} <= {c["title"] for c in listed}
    assert (refused.status_code, added.status_code, again.status_code) == (403, 201, 409)


def test_oversized_bodies_and_texts_are_refused_with_the_limit(hub):
    async def scenario():
        sam = await logged_in(hub)
        too_long = await sam.post("/api/conversations/x/notes", {"text": "n" * 5000})
        huge = await sam.http.post(
            "/api/conversations/x/notes",
            content=b'{"text": "' + b"x" * 200_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        await sam.close()
        return too_long, huge

    too_long, huge = run(scenario)
    assert too_long.status_code == 413 and huge.status_code == 413
