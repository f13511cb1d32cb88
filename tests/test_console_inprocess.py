"""The agent console's API on the hub in-process, with a fake Rasa: sessions and roles, a handoff from the bot's
packet to the queue, claim, reply, notes, transfer and resolve as the customer's socket sees them, every refusal as
JSON with its status, and hostile text kept as data."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.hub_clients import AgentClient, CustomerClient, Event
from tests.inprocess import PASSWORD, FakeRasa, InProcessHub, hands_off, running_hub, says

MAX_MESSAGE_CHARS = 500
PACKET = hands_off(
    "requested",
    "high",
    "The customer asked for a person about a kettle that arrived broken.",
    signals=["intent:contact_human_agent"],
    intents=[{"intent": "contact_human_agent", "confidence": 0.97, "text": "a person please"}],
)
BOT = FakeRasa({"a person please": [says("I'm bringing in a person from our team."), PACKET]})
"""What each test's fake Rasa answers (copied per test)."""


def with_hub(tmp_path: Path, story: Callable[[InProcessHub], Awaitable[None]]) -> None:
    async def main() -> None:
        rasa = FakeRasa(BOT.script)
        async with running_hub(tmp_path / "hub.db", rasa, MAX_MESSAGE_CHARS=str(MAX_MESSAGE_CHARS)) as hub:
            await story(hub)

    asyncio.run(main())


async def queued_customer(hub: InProcessHub) -> CustomerClient:
    """A web customer whose bot handed them over: waiting in the queue."""
    customer = await hub.connected_customer()
    await customer.say("a person please")
    await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
    return customer


def is_message(sender: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "message" and e["message"]["sender"] == sender


def refusal(response: httpx.Response) -> tuple[int, str]:
    """Status and code of an error answer, after checking it is the one JSON shape every error has."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"} and body["error"]["message"]
    return response.status_code, body["error"]["code"]


def test_login_gives_a_strict_httponly_session_me_tells_the_limits_and_logout_ends_it(tmp_path):
    async def story(hub: InProcessHub) -> None:
        client = await hub.agent()
        wrong = await client.login("sam", "not the password")
        assert refusal(wrong) == (401, "bad_credentials")
        response = await client.login("sam", PASSWORD)
        cookie = response.headers["set-cookie"].lower()
        assert "frontline_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        me = (await client.get("/api/me")).json()
        assert (me["agent"]["username"], me["agent"]["role"]) == ("sam", "agent")
        assert me["limits"] == {"max_message_chars": MAX_MESSAGE_CHARS, "max_note_chars": 4000}
        token = client.http.cookies["frontline_session"]
        assert (await client.post("/api/logout")).json() == {"ok": True}
        client.http.cookies.set("frontline_session", token)
        assert refusal(await client.get("/api/me")) == (401, "unauthenticated")

    with_hub(tmp_path, story)


def test_without_a_session_everything_is_401_and_with_the_wrong_role_403(tmp_path):
    async def story(hub: InProcessHub) -> None:
        anonymous = await hub.agent()
        for path in ("/api/me", "/api/queue", "/api/agents", "/api/conversations/x", "/api/canned-replies"):
            assert refusal(await anonymous.get(path)) == (401, "unauthenticated"), path
        assert refusal(await anonymous.post("/api/conversations/x/claim")) == (401, "unauthenticated")
        anonymous.http.cookies.set("frontline_session", "forged-or-expired")
        assert refusal(await anonymous.get("/api/me")) == (401, "unauthenticated")

        sam, alex, robin = await hub.agent("sam"), await hub.agent("alex"), await hub.agent("robin")
        new = {"title": "Returns", "text": "Returns are free for 30 days."}
        assert refusal(await sam.post("/api/canned-replies", new)) == (403, "forbidden")
        assert refusal(await robin.post("/api/canned-replies", new)) == (403, "forbidden")
        assert (await alex.post("/api/canned-replies", new)).status_code == 201
        assert refusal(await alex.post("/api/canned-replies", new)) == (409, "duplicate")
        titles = [c["title"] for c in (await sam.get("/api/canned-replies")).json()["canned_replies"]]
        assert "Returns" in titles
        cancel = "/api/conversations/x/orders/00123842/cancel"
        assert refusal(await robin.post(cancel, {"reason": "asked"})) == (403, "forbidden")

    with_hub(tmp_path, story)


def test_the_bots_handoff_packet_puts_the_conversation_in_the_queue_with_the_whole_story(tmp_path):
    async def story(hub: InProcessHub) -> None:
        customer = await queued_customer(hub)
        sam = await hub.agent("sam")
        queue = (await sam.get("/api/queue")).json()
        [waiting] = queue["waiting"]
        assert (waiting["id"], waiting["state"], waiting["reason"], waiting["priority"]) == (
            customer.conversation_id,
            "queued",
            "requested",
            "high",
        )
        assert waiting["summary"] == PACKET["custom"]["handoff"]["summary"]
        assert waiting["packet"] == PACKET["custom"]["handoff"]
        assert waiting["queue"] == {"position": 1, "estimated_wait_seconds": None, "agents_online": 0, "open_now": True}
        assert (queue["mine"], queue["agents_online"]) == ([], 0)

        view = (await sam.get(f"/api/conversations/{customer.conversation_id}")).json()
        assert [(m["sender"], m["text"]) for m in view["messages"]][:2] == [
            ("customer", "a person please"),
            ("bot", "I'm bringing in a person from our team."),
        ]
        assert view["handoff"]["packet"] == PACKET["custom"]["handoff"] and view["handoff"]["source"] == "rasa"
        assert (view["assigned_agent"], view["notes"], view["order"]) == (None, [], None)

    with_hub(tmp_path, story)


def test_a_claimed_conversation_is_the_agents_replies_reach_the_customer_and_the_customer_reaches_only_the_agent(
    tmp_path,
):
    async def story(hub: InProcessHub) -> None:
        customer = await queued_customer(hub)
        sam, kim = await hub.agent("sam"), await hub.agent("kim")
        base = f"/api/conversations/{customer.conversation_id}"
        claimed = await sam.post(f"{base}/claim")
        assert claimed.status_code == 200 and claimed.json()["conversation"]["state"] == "agent"
        joined = await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
        assert joined["agent"] == {"name": "Sam (agent)"}
        assert refusal(await kim.post(f"{base}/claim")) == (409, "not_allowed")

        reply = await sam.post(
            f"{base}/messages", {"text": "Hi, Sam here. Sorry about the kettle!", "client_id": "r-1"}
        )
        assert reply.status_code == 201
        delivered = (await customer.wait_for(is_message("agent")))["message"]
        assert delivered["text"] == "Hi, Sam here. Sorry about the kettle!"
        assert delivered["payload"] == {"agent_name": "Sam (agent)"}
        again = await sam.post(
            f"{base}/messages", {"text": "Hi, Sam here. Sorry about the kettle!", "client_id": "r-1"}
        )
        assert again.json()["message"]["id"] == reply.json()["message"]["id"], "a resent reply is stored once"

        await customer.say("It is the blue one")
        await hub.settled(customer)
        view = (await sam.get(base)).json()
        assert view["messages"][-1]["text"] == "It is the blue one"
        assert view["assigned_agent"]["username"] == "sam"
        assert hub.rasa.texts() == ["a person please"], "Rasa never hears what is said to a person"
        assert not [m for m in customer.messages("bot") if m["id"] > delivered["id"]]
        assert [c["id"] for c in (await sam.get("/api/queue")).json()["mine"]] == [customer.conversation_id]

    with_hub(tmp_path, story)


def test_notes_are_for_agents_only_and_never_reach_the_customer(tmp_path):
    note = "VIP; refund without asking. <img src=x onerror=alert(1)>"

    async def story(hub: InProcessHub) -> None:
        customer = await queued_customer(hub)
        sam = await hub.agent("sam")
        base = f"/api/conversations/{customer.conversation_id}"
        added = await sam.post(f"{base}/notes", {"text": note})
        assert added.status_code == 201
        assert (added.json()["note"]["text"], added.json()["note"]["agent_name"]) == (note, "Sam (agent)")
        assert refusal(await sam.post(f"{base}/notes", {"text": "n" * 4001})) == (413, "too_long")
        assert (await sam.post(f"{base}/notes", {"text": "n" * 4000})).status_code == 201
        await hub.settled(customer)
        view = (await sam.get(base)).json()
        assert [n["text"] for n in view["notes"]] == [note, "n" * 4000]
        assert not any(note in json.dumps(event) for event in customer.events)

    with_hub(tmp_path, story)


def test_a_transfer_hands_the_conversation_and_the_customer_is_told_who_took_over(tmp_path):
    async def story(hub: InProcessHub) -> None:
        customer = await queued_customer(hub)
        sam, kim = await hub.agent("sam"), await hub.agent("kim")
        base = f"/api/conversations/{customer.conversation_id}"
        await sam.post(f"{base}/claim")
        assert refusal(await sam.post(f"{base}/transfer", {"agent_id": 99999})) == (400, "unknown_agent")
        assert refusal(await sam.post(f"{base}/transfer", {"agent_id": "kim"})) == (400, "unknown_agent")
        robin = hub.agents["robin"].id
        assert refusal(await sam.post(f"{base}/transfer", {"agent_id": robin})) == (409, "not_allowed")
        moved = await sam.post(f"{base}/transfer", {"agent_id": hub.agents["kim"].id})
        assert moved.json() == {"ok": True}
        told = await customer.wait_for(lambda e: e["type"] == "message" and "taking over" in e["message"]["text"])
        assert told["message"]["text"] == "Kim (agent) from our team is taking over from Sam (agent)."
        assert (await kim.post(f"{base}/messages", {"text": "Kim here"})).status_code == 201
        assert refusal(await sam.post(f"{base}/messages", {"text": "Sam again"})) == (409, "not_allowed")
        assert refusal(await sam.post(f"{base}/transfer", {"agent_id": hub.agents["sam"].id})) == (409, "not_allowed")

    with_hub(tmp_path, story)


def test_resolving_asks_the_customer_for_a_rating_credited_to_the_agent_and_hands_back_to_the_bot(tmp_path):
    async def story(hub: InProcessHub) -> None:
        customer = await queued_customer(hub)
        sam = await hub.agent("sam")
        base = f"/api/conversations/{customer.conversation_id}"
        await sam.post(f"{base}/claim")
        await sam.post(f"{base}/messages", {"text": "A new kettle is on its way."})
        resolved = await sam.post(f"{base}/resolve")
        assert resolved.json() == {"ok": True}
        asked = await customer.wait_for(
            lambda e: e["type"] == "message" and "rating_request" in (e["message"]["payload"] or {})
        )
        assert asked["message"]["text"].startswith("Sam (agent) has marked this as resolved. How did we do?")
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "resolved")
        await customer.send_frame(
            {"type": "rating", "score": 5, "comment": "Quick!", "message_id": asked["message"]["id"]}
        )
        assert (await customer.wait_for(lambda e: e["type"] == "rated"))["accepted"] is True
        [(sender_id, events)] = hub.rasa.appended
        assert sender_id == customer.conversation_id
        assert {
            "event": "bot",
            "text": "A new kettle is on its way.",
            "metadata": {"agent_id": sam.agent["id"]},
        } in events
        assert refusal(await sam.post(f"{base}/resolve")) == (409, "not_allowed")

        seen = len(customer.events)
        await customer.say("thanks, and one more question")
        await customer.wait_for(is_message("bot"), after=seen)
        assert hub.rasa.texts()[-1] == "thanks, and one more question"

    with_hub(tmp_path, story)


def test_every_refusal_is_json_with_its_status(tmp_path):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        bot_owned = await hub.connected_customer()
        base = f"/api/conversations/{bot_owned.conversation_id}"
        plain = {"Content-Type": "text/plain"}
        json_type = {"Content-Type": "application/json"}
        answers = {
            "unknown conversation": await sam.get("/api/conversations/no-such-id"),
            "claim unknown": await sam.post("/api/conversations/no-such-id/claim"),
            "claim the bot's": await sam.post(f"{base}/claim"),
            "reply in the bot's": await sam.post(f"{base}/messages", {"text": "hello"}),
            "too long": await sam.post(f"{base}/messages", {"text": "x" * (MAX_MESSAGE_CHARS + 1)}),
            "not JSON": await sam.http.post(f"{base}/notes", content=b"text=hi", headers=plain),
            "no content type": await sam.http.post(f"{base}/claim", content=b"{}"),
            "other origin": await sam.http.post(f"{base}/claim", json={}, headers={"Origin": "https://evil.example"}),
            "broken JSON": await sam.http.post(f"{base}/notes", content=b'{"text": ', headers=json_type),
            "JSON not an object": await sam.http.post(f"{base}/notes", content=b'["text"]', headers=json_type),
            "missing text": await sam.post(f"{base}/notes", {"note": "hi"}),
            "blank text": await sam.post(f"{base}/messages", {"text": "   "}),
            "unknown path": await sam.get("/api/nothing-here"),
        }
        assert {what: refusal(response) for what, response in answers.items()} == {
            "unknown conversation": (404, "not_found"),
            "claim unknown": (404, "not_found"),
            "claim the bot's": (409, "not_allowed"),
            "reply in the bot's": (409, "not_allowed"),
            "too long": (413, "too_long"),
            "not JSON": (415, "json_required"),
            "no content type": (415, "json_required"),
            "other origin": (403, "cross_origin"),
            "broken JSON": (400, "bad_json"),
            "JSON not an object": (400, "bad_json"),
            "missing text": (400, "missing"),
            "blank text": (400, "missing"),
            "unknown path": (404, "http_404"),
        }
        same_origin = await sam.http.post(f"{base}/notes", json={"text": "fine"}, headers={"Origin": hub.url})
        assert same_origin.status_code == 201

    with_hub(tmp_path, story)


def test_html_and_sql_are_stored_verbatim_and_come_back_as_json_data(tmp_path):
    customer_text = "<script>alert('x')</script>'; DROP TABLE hub_messages; --"
    agent_text = '</p><img src=x onerror="fetch(`/api/me`)"> Robert\'); DELETE FROM hub_agents;--'

    async def story(hub: InProcessHub) -> None:
        customer = await queued_customer(hub)
        sam = await hub.agent("sam")
        base = f"/api/conversations/{customer.conversation_id}"
        await sam.post(f"{base}/claim")
        await customer.say(customer_text)
        await sam.post(f"{base}/messages", {"text": agent_text})
        await sam.post(f"{base}/notes", {"text": agent_text})
        delivered = await customer.wait_for(is_message("agent"))
        await hub.settled(customer)
        response = await sam.get(base)
        assert response.headers["content-type"].startswith("application/json")
        view = response.json()
        texts = [m["text"] for m in view["messages"]]
        assert customer_text in texts and agent_text in texts
        assert view["notes"][0]["text"] == agent_text
        assert delivered["message"]["text"] == agent_text
        assert len((await sam.get("/api/agents")).json()["agents"]) == 4, "no account was deleted"

    with_hub(tmp_path, story)


def test_the_agent_socket_makes_an_agent_online_and_streams_the_queue_and_watched_conversations(tmp_path):
    async def story(hub: InProcessHub) -> None:
        anonymous = await websockets.connect(hub.url.replace("http", "ws") + "/ws/agent")
        refused = json.loads(await anonymous.recv())
        await anonymous.wait_closed()
        assert (refused["code"], anonymous.close_code) == ("unauthenticated", 4401)

        sam = await hub.agent("sam")
        await sam.go_online()
        online = {a["username"]: a["online"] for a in (await sam.get("/api/agents")).json()["agents"]}
        assert online == {"sam": True, "kim": False, "alex": False, "robin": False}
        customer = await queued_customer(hub)
        queued = await _next(sam, lambda e: e["type"] == "queued")
        assert queued["conversation"]["id"] == customer.conversation_id
        await sam.ws.send(json.dumps({"type": "watch", "conversation_id": customer.conversation_id}))
        await sam.post(f"/api/conversations/{customer.conversation_id}/claim")
        await _next(sam, lambda e: e["type"] == "claimed")
        await sam.post(f"/api/conversations/{customer.conversation_id}/notes", {"text": "checked the order"})
        note = await _next(sam, lambda e: e["type"] == "note")
        assert note["note"]["text"] == "checked the order"
        await customer.say("hello?")
        said = await _next(sam, lambda e: e["type"] == "message" and e["message"]["sender"] == "customer")
        assert said["message"]["text"] == "hello?"

        await sam.ws.close()
        for _ in range(100):  # the hub notices the closed socket on its next read; it must not take a heartbeat
            online = {a["username"]: a["online"] for a in (await sam.get("/api/agents")).json()["agents"]}
            if not online["sam"]:
                break
            await asyncio.sleep(0.02)
        assert online["sam"] is False, "an agent who closed the console stays online"


async def _next(agent: AgentClient, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next event on the agent's console socket that matches."""
    while True:
        event = json.loads(await asyncio.wait_for(agent.ws.recv(), 5))
        if predicate(event):
            return event
