"""The queue as people live it: order by priority then wait, live positions, honest estimates, assignment."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.core.settings import DAYS
from tests.hub_clients import AgentClient, CustomerClient


def run(scenario):
    return asyncio.run(scenario())


@pytest.fixture
def fresh_hub(assistant, tmp_path):
    """A hub with an empty database, started with the environment the test gives."""

    def start(**env: str):
        assistant.start_hub(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", **env})
        return assistant

    yield start
    assistant.stop_hub()


async def queue_up(hub, text: str) -> CustomerClient:
    customer = CustomerClient(hub.hub_url)
    await customer.connect()
    await customer.say(text)
    await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
    return customer


def test_urgent_work_first_then_longest_waiting_and_positions_follow_live(fresh_hub):
    hub = fresh_hub()

    async def scenario():
        first = await queue_up(hub, "can I talk to a human")
        second = await queue_up(hub, "put me through to an agent please")
        complaint = await queue_up(hub, "I want to file a formal complaint about your courier")
        agent = AgentClient(hub.hub_url)
        await agent.login()
        await agent.go_online()
        waiting = (await agent.get("/api/queue")).json()["waiting"]
        order = [c["id"] for c in waiting]
        estimates = [c["queue"]["estimated_wait_seconds"] for c in waiting]
        seen = len(second.events)
        await agent.post(f"/api/conversations/{complaint.conversation_id}/claim")
        await agent.post(f"/api/conversations/{first.conversation_id}/claim")
        moved = await second.wait_for(
            lambda e: e["type"] == "state" and (e.get("queue") or {}).get("position") == 1, after=seen
        )
        for client in (first, second, complaint, agent):
            await client.close()
        return order, estimates, moved, (first, second, complaint)

    order, estimates, moved, (first, second, complaint) = run(scenario)
    assert order == [complaint.conversation_id, first.conversation_id, second.conversation_id]
    assert all(isinstance(s, int) and s > 0 for s in estimates)
    assert estimates == sorted(estimates)
    assert moved["queue"]["agents_online"] == 1


def test_with_nobody_online_the_customer_is_told_honestly(fresh_hub):
    hub = fresh_hub()

    async def scenario():
        customer = await queue_up(hub, "human please")
        notice = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "system")
        state = await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        await customer.close()
        return notice, state

    notice, state = run(scenario)
    assert "not available right now" in notice["message"]["text"]
    assert state["queue"]["estimated_wait_seconds"] is None and state["queue"]["agents_online"] == 0


def test_outside_business_hours_the_customer_is_told_so(fresh_hub):
    closed_day = DAYS[(dt.datetime.now(dt.timezone.utc).weekday() + 3) % 7].capitalize()
    hub = fresh_hub(BUSINESS_HOURS=f"{closed_day}-{closed_day} 09:00-17:00 UTC")

    async def scenario():
        agent = AgentClient(hub.hub_url)
        await agent.login()
        await agent.go_online()
        customer = await queue_up(hub, "can I speak to someone")
        notice = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "system")
        for client in (customer, agent):
            await client.close()
        return notice

    assert "outside our opening hours" in run(scenario)["message"]["text"]


def test_automatic_assignment_gives_work_to_online_agents_up_to_their_capacity(fresh_hub):
    hub = fresh_hub(AUTO_ASSIGN="true")

    async def scenario():
        agent = AgentClient(hub.hub_url)
        await agent.login()
        await agent.go_online()
        customers = [CustomerClient(hub.hub_url) for _ in range(4)]
        for customer in customers:
            await customer.connect()
            await customer.say("I need a real person")
            await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        joined = [
            await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
            for customer in customers[:3]
        ]
        mine = (await agent.get("/api/queue")).json()
        for client in (*customers, agent):
            await client.close()
        return joined, mine, customers[3]

    joined, mine, last = run(scenario)
    assert {j["agent"]["name"] for j in joined} == {"Sam (demo agent)"}
    assert len(mine["mine"]) == 3
    assert [c["id"] for c in mine["waiting"]] == [last.conversation_id]


def test_when_rasa_is_down_the_customer_is_queued_politely(fresh_hub):
    """A slow Rasa is no longer a failure (the hub waits out the turn: tests/test_router.py, tests/test_faults.py)."""
    hub = fresh_hub(RASA_URL="http://127.0.0.1:9")

    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        ack = await customer.say("where is my order 00123842?")
        sorry = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "system")
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        agent = AgentClient(hub.hub_url)
        await agent.login()
        waiting = (await agent.get("/api/queue")).json()["waiting"]
        transcript = (await agent.get(f"/api/conversations/{customer.conversation_id}")).json()["messages"]
        for client in (customer, agent):
            await client.close()
        return ack, sorry, waiting, transcript

    ack, sorry, waiting, transcript = run(scenario)
    assert ack["type"] == "ack"
    assert "having trouble" in sorry["message"]["text"]
    assert waiting[0]["reason"] == "bot_error" and waiting[0]["priority"] == "high"
    assert transcript[0]["text"] == "where is my order 00123842?"
