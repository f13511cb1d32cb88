"""The whole handoff, for real: widget WebSocket, hub, Rasa, action server, shop, console API."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.store import schema as t
from bot.store.database import create_engine
from tests.hub_clients import AgentClient, CustomerClient


def run(scenario):
    return asyncio.run(scenario())


def test_bot_answers_then_a_person_takes_over_and_hands_back(hub):
    async def scenario():
        customer, agent = CustomerClient(hub.hub_url), AgentClient(hub.hub_url)
        try:
            await customer.connect()
            ack = await customer.say("where is my order 00123842?")
            assert ack["type"] == "ack"
            answer = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot")
            assert "on its way with DHL" in answer["message"]["text"]

            await customer.say("I'd like to talk to a human please")
            queued = await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
            assert queued["queue"]["position"] == 1

            assert (await agent.login()).status_code == 200
            waiting = (await agent.get("/api/queue")).json()["waiting"]
            mine = next(c for c in waiting if c["id"] == customer.conversation_id)
            assert mine["reason"] == "requested" and mine["packet"]["summary"]
            view = (await agent.get(f"/api/conversations/{customer.conversation_id}")).json()
            texts = [m["text"] for m in view["messages"]]
            assert "where is my order 00123842?" in texts
            assert any("on its way with DHL" in text for text in texts)
            assert view["handoff"]["packet"]["intents"][0]["intent"] == "track_order"
            assert view["order"]["number"] == "00123842"

            assert (await agent.post(f"/api/conversations/{customer.conversation_id}/claim")).status_code == 200
            joined = await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
            assert joined["agent"]["name"] == agent.agent["display_name"]
            reply = await agent.post(
                f"/api/conversations/{customer.conversation_id}/messages", {"text": "Hi, Sam here!"}
            )
            assert reply.status_code == 201
            delivered = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "agent")
            assert delivered["message"]["text"] == "Hi, Sam here!"

            await customer.say("it is the blue water bottle")
            transcript = (await agent.get(f"/api/conversations/{customer.conversation_id}")).json()["messages"]
            assert transcript[-1]["text"] == "it is the blue water bottle"
            rasa_texts = [
                e.get("text") for e in hub.tracker(customer.conversation_id)["events"] if e["event"] == "user"
            ]
            assert "it is the blue water bottle" not in rasa_texts
            assert not [m for m in customer.messages("bot") if m["id"] > delivered["message"]["id"]]

            assert (await agent.post(f"/api/conversations/{customer.conversation_id}/resolve")).status_code == 200
            asked = await customer.wait_for(
                lambda e: e["type"] == "message" and (e["message"]["payload"] or {}).get("rating_request")
            )
            assert asked["message"]["sender"] == "system"
            await customer.send_frame({"type": "rating", "score": 5, "comment": "Sam was quick"})
            assert (await customer.wait_for(lambda e: e["type"] == "rated"))["accepted"] is True

            rasa_events = hub.tracker(customer.conversation_id)["events"]
            assert "Hi, Sam here!" in [e.get("text") for e in rasa_events if e["event"] == "bot"]
            assert hub.tracker(customer.conversation_id)["active_loop"] == {}

            seen = len(customer.events)
            await customer.say("and where is order 04587345?")
            back = await customer.wait_for(
                lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", after=seen
            )
            assert "delayed" in back["message"]["text"]
        finally:
            await customer.close()
            await agent.close()

    run(scenario)
    engine = create_engine(f"sqlite:///{hub.hub_database}")
    with engine.connect() as conn:
        rating = conn.execute(select(t.ratings)).one()
        agent_id = conn.execute(select(t.agents.c.id).where(t.agents.c.username == "demo.agent")).scalar_one()
    assert (rating.score, rating.comment, rating.agent_id) == (5, "Sam was quick", agent_id)


def test_a_conversation_the_bot_finishes_is_rated_for_the_bot(hub):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        try:
            await customer.connect()
            await customer.say("what payment methods do you accept?")
            await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot")
            await customer.say("goodbye")
            asked = await customer.wait_for(
                lambda e: e["type"] == "message" and (e["message"]["payload"] or {}).get("rating_request")
            )
            await customer.send_frame({"type": "rating", "score": 4})
            rated = await customer.wait_for(lambda e: e["type"] == "rated")
            return customer, asked, rated
        finally:
            await customer.close()

    customer, asked, rated = run(scenario)
    assert "how did the bot do" in asked["message"]["text"].lower() and rated["accepted"] is True
    with create_engine(f"sqlite:///{hub.hub_database}").connect() as conn:
        rating = conn.execute(select(t.ratings).where(t.ratings.c.conversation_id == customer.conversation_id)).one()
    assert (rating.score, rating.agent_id, rating.handoff_id) == (4, None, None)
