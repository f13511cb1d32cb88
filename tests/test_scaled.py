"""The scaled mode for real (`make run-scaled`, deploy/scaled.py): two hub processes sharing PostgreSQL and Redis,
nginx in front, a Rasa server and the action server. A customer and an agent on different hubs, races between the
hubs, a reload on one pausing the other, a hub killed under its customers, an agent online on both."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import select

from bot.store import schema as t
from tests.fault_proxy import FaultProxy
from tests.hub_clients import CustomerClient, Event
from tests.postgres import fresh_postgres_database
from tests.rasa_stack import TOKEN
from tests.scaled_stack import Console, Disconnected, LiveCustomer, ScaledStack

pytestmark = [pytest.mark.stack, pytest.mark.model]

ROUTINE = ("what payment methods do you accept?", "what delivery options do you have?", "what's your refund policy")
"""Questions the bot answers itself, each a different one (asked twice, the bot would hand over)."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, demo_shop_template: Path) -> Iterator[ScaledStack]:
    """Started once for the module: a hub takes seconds, Rasa a minute."""
    with fresh_postgres_database() as database_url:
        scaled = ScaledStack(
            tmp_path_factory.mktemp("scaled"),
            database_url,
            demo_shop_template,
            RASA_TIMEOUT_MS="5000",
            ROUTING_SWEEP_MS="300",
        )
        try:
            started = time.monotonic()
            scaled.start()
            print(f"\nSCALED stack up in {time.monotonic() - started:.0f}s")
            yield scaled
        finally:
            scaled.stop()


def run(scenario):
    return asyncio.run(scenario())


def bot_said(event: Event) -> bool:
    return event["type"] == "message" and event["message"]["sender"] == "bot"


def in_state(state: str):
    return lambda e: e["type"] == "state" and e["state"] == state


async def queued_customer(hub_url: str) -> CustomerClient:
    customer = CustomerClient(hub_url)
    await customer.connect()
    await customer.say("I'd like to talk to a human please")
    await customer.wait_for(in_state("queued"), timeout=60)
    return customer


def conversation_row(stack: ScaledStack, conversation_id: str):
    return stack.query(select(t.conversations).where(t.conversations.c.id == conversation_id))[0]


def test_a_customer_on_hub_a_and_an_agent_on_hub_b_see_each_other_live_and_the_bot_stays_silent(stack):
    async def scenario():
        customer = await queued_customer(stack.hub_url("hub1"))
        agent = await Console(stack.hub_url("hub2")).open()
        try:
            await agent.watch(customer.conversation_id)
            claimed = await agent.post(f"/api/conversations/{customer.conversation_id}/claim")
            assert claimed.status_code == 200, claimed.text
            joined = await customer.wait_for(in_state("agent"))
            assert joined["agent"]["name"] == agent.agent["display_name"]

            sent = await agent.post(f"/api/conversations/{customer.conversation_id}/messages", {"text": "Hi, Sam!"})
            assert sent.status_code == 201, sent.text
            heard = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "agent")
            assert heard["message"]["text"] == "Hi, Sam!"

            ack = await customer.say("it is the blue water bottle")
            assert ack["type"] == "ack"
            seen = await agent.wait_for(lambda e: e["type"] == "message" and e["message"]["id"] == ack["id"])
            assert seen["message"]["text"] == "it is the blue water bottle"

            await agent.post(f"/api/conversations/{customer.conversation_id}/messages", {"text": "Checking now."})
            await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["text"] == "Checking now.")
            assert not [m for m in customer.messages("bot") if m["id"] > heard["message"]["id"]]
            await agent.post(f"/api/conversations/{customer.conversation_id}/resolve")
            return customer.conversation_id, ack["id"]
        finally:
            await customer.close()
            await agent.close()

    conversation_id, message_id = run(scenario)
    rasa_heard = [e.get("text") for e in stack.tracker(conversation_id)["events"] if e["event"] == "user"]
    assert "it is the blue water bottle" not in rasa_heard
    routed = stack.query(select(t.routing.c.state).where(t.routing.c.message_id == message_id))
    assert [row.state for row in routed] == ["handed_over"], "the hub kept it from the bot"


def test_a_claim_race_across_the_hubs_has_one_winner(stack):
    async def race():
        customer = await queued_customer(stack.url)
        agents = [
            await Console(stack.hub_url("hub1")).open(),
            await Console(stack.hub_url("hub2")).open("demo.supervisor"),
        ]
        try:
            path = f"/api/conversations/{customer.conversation_id}/claim"
            answers = await asyncio.gather(*(agent.post(path) for agent in agents))
            winner = next(agent for agent, answer in zip(agents, answers, strict=True) if answer.status_code == 200)
            joined = await customer.wait_for(in_state("agent"))
            assert (await winner.post(f"/api/conversations/{customer.conversation_id}/resolve")).status_code == 200
            return customer, [a.status_code for a in answers], winner.agent, joined
        finally:
            await customer.close()
            for agent in agents:
                await agent.close()

    for _ in range(3):
        customer, statuses, winner, joined = run(race)
        assert sorted(statuses) == [200, 409], statuses
        assert joined["agent"]["name"] == winner["display_name"]
        handoffs = stack.query(select(t.handoffs).where(t.handoffs.c.conversation_id == customer.conversation_id))
        assert [h.agent_id for h in handoffs] == [winner["id"]]
        joins = [e for e in customer.events if e["type"] == "state" and e["state"] == "agent"]
        assert len(joins) == 1, "the customer was told of one agent"


def test_a_reload_started_on_hub_a_holds_a_message_sent_to_hub_b_until_it_is_done(stack):
    """Hub A reaches Rasa through a proxy that holds its requests for a while: the reload lasts that much longer
    while Rasa itself stays free, so a hub B that did not pause would get its answer during the reload."""
    with FaultProxy(stack.plan.process("rasa1").port) as slow:
        slow.hold = 6.0
        stack.restart("hub1", env={"RASA_URL": f"http://127.0.0.1:{slow.port}"})

        async def scenario():
            customer = CustomerClient(stack.hub_url("hub2"))
            await customer.connect()
            token = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=stack.hub_url("hub1"), headers=token, timeout=20) as hub_a:
                started = await hub_a.post("/api/model/reload", json={"model_file": "models/frontline.tar.gz"})
                assert started.status_code == 202, started.text
                await asyncio.to_thread(slow.wait_until_held)  # the reload is under way: hub A closed the gate
                ack = await customer.say(ROUTINE[0])
                assert ack["type"] == "ack"
                answer = await customer.wait_for(bot_said, timeout=240)
                when_answered = (await hub_a.get("/api/model/reload")).json()["reload"]
            await customer.close()
            return customer, ack, answer, when_answered

        try:
            customer, ack, answer, when_answered = run(scenario)
        finally:
            stack.restart("hub1")
    assert when_answered["state"] == "done", f"hub B answered during the reload: {when_answered}"
    assert "PayPal" in answer["message"]["text"]
    assert not [e for e in customer.events if e["type"] == "state" and e["state"] != "bot"], "nobody handed over"
    routed = stack.query(select(t.routing.c.state).where(t.routing.c.message_id == ack["id"]))
    assert [row.state for row in routed] == ["answered"]
    assert conversation_row(stack, customer.conversation_id).state == "bot"


async def converse(stack: ScaledStack, killed: asyncio.Event, ready: asyncio.Event) -> dict[str, object]:
    """One customer through nginx asks three questions. At the second, acknowledged, it lets the test kill hub A;
    when its socket dies it reconnects through nginx (to hub B) and sends again, with the same client id, what was
    not acknowledged. Returns its conversation and how often it reconnected."""
    customer, reconnects, last_id = LiveCustomer(stack.url), 0, 0
    await customer.connect()
    for turn, text in enumerate(ROUTINE):
        client_id, acked = uuid.uuid4().hex, None
        while True:
            try:
                if acked is None:
                    seen = len(customer.events)
                    await customer.send_frame({"type": "message", "client_id": client_id, "text": text})
                    acked = await customer.wait_or_closed(
                        lambda e, c=client_id: e.get("client_id") == c and e["type"] == "ack", after=seen
                    )
                    if turn == 1:
                        ready.set()
                        await killed.wait()  # hub A dies with this message acknowledged, maybe not yet answered
                if not [m for m in customer.messages("bot") if m["id"] > acked["id"]]:
                    await customer.wait_or_closed(lambda e, a=acked["id"]: bot_said(e) and e["message"]["id"] > a)
                break
            except (Disconnected, websockets.ConnectionClosed):
                reconnects += 1
                token, customer = customer.token, LiveCustomer(stack.url)
                await customer.connect(token=token, last_id=last_id)
        last_id = max(m["id"] for m in customer.messages())
    await customer.close()
    return {"conversation_id": customer.conversation_id, "reconnects": reconnects}


def test_a_hub_killed_mid_conversation_its_customers_carry_on_through_nginx_and_nothing_is_lost(stack):
    async def scenario():
        killed = asyncio.Event()
        readies = [asyncio.Event() for _ in range(4)]
        talks = [asyncio.create_task(converse(stack, killed, ready)) for ready in readies]
        for ready in readies:
            await ready.wait()
        stack.kill("hub1")
        killed.set()
        return await asyncio.gather(*talks)

    try:
        outcomes = run(scenario)
    finally:
        stack.restart("hub1")
    assert any(o["reconnects"] for o in outcomes), "some customers were on the killed hub"
    for outcome in outcomes:
        conversation_id = str(outcome["conversation_id"])
        rows = stack.query(
            select(t.messages.c.id, t.messages.c.sender, t.messages.c.text)
            .where(t.messages.c.conversation_id == conversation_id)
            .order_by(t.messages.c.id)
        )
        said = [row for row in rows if row.sender == "customer"]
        assert [row.text for row in said] == list(ROUTINE), "every message stored, once, in order"
        bounds = [row.id for row in said[1:]] + [rows[-1].id + 1]
        for asked, bound in zip(said, bounds, strict=True):
            assert any(r.sender == "bot" and asked.id < r.id < bound for r in rows), f"{asked.text!r} answered"
        routed = stack.query(select(t.routing.c.state).where(t.routing.c.conversation_id == conversation_id))
        assert [row.state for row in routed] == ["answered"] * 3
        events = stack.tracker(conversation_id)["events"]
        asked_rasa = [(e.get("metadata") or {}).get("hub_message_id") for e in events if e["event"] == "user"]
        assert asked_rasa == [row.id for row in said], "Rasa was asked each message exactly once"


async def consoles_on_both_hubs(stack: ScaledStack, then_close_a: bool) -> tuple[Event, dict, list[dict], Event]:
    """A queued customer; the agent's console open on hub A and on hub B (and closed again on A): the customer's
    last queue status, the queue and the agents as hub B tells them, the agent."""
    customer = await queued_customer(stack.hub_url("hub1"))
    on_a, on_b = Console(stack.hub_url("hub1")), Console(stack.hub_url("hub2"))
    try:
        seen = len(customer.events)
        await on_a.open()
        await customer.wait_for(lambda e: in_state("queued")(e) and e["queue"]["agents_online"] == 1, after=seen)
        seen = len(customer.events)
        await on_b.open()  # hub B announces the queue once the agent counts as online there
        told = await customer.wait_for(in_state("queued"), after=seen)
        if then_close_a:
            seen = len(customer.events)
            await on_a.close_socket()  # hub A announces the queue once it has marked the agent gone
            told = await customer.wait_for(in_state("queued"), after=seen)
        queue = (await on_b.get("/api/queue")).json()
        agents = (await on_b.get("/api/agents")).json()["agents"]
        await on_b.post(f"/api/conversations/{customer.conversation_id}/claim")
        await on_b.post(f"/api/conversations/{customer.conversation_id}/resolve")
        return told, queue, agents, on_b.agent
    finally:
        await customer.close()
        await on_a.close()
        await on_b.close()


def test_an_agent_with_consoles_on_both_hubs_counts_once(stack):
    told, queue, agents, agent = run(lambda: consoles_on_both_hubs(stack, then_close_a=False))
    assert told["queue"]["agents_online"] == 1 and queue["agents_online"] == 1, "two consoles, one agent"
    assert [a["online"] for a in agents if a["id"] == agent["id"]] == [True]


def test_an_agent_stays_online_while_their_console_on_another_hub_is_open(stack):
    told, queue, agents, agent = run(lambda: consoles_on_both_hubs(stack, then_close_a=True))
    assert told["queue"]["agents_online"] == 1 and queue["agents_online"] == 1, "still online on hub B"
    assert [a["online"] for a in agents if a["id"] == agent["id"]] == [True]
