"""The customer WebSocket spoken by a real client to the hub in-process, with a fake Rasa: hello and resume, stored
before acknowledged, the bot's replies and buttons, bad frames refused without losing anything, and a customer
handed to a person when Rasa is down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import select

from bot.domain.tokens import sign_customer_id
from bot.store import schema as t
from bot.store.database import create_engine
from tests.hub_clients import Event
from tests.inprocess import FakeRasa, InProcessHub, asks_rating, hands_off, running_hub, says
from tests.private_postgres import PrivatePostgres

LIMITS = {"MAX_MESSAGE_CHARS": "40", "MAX_FRAME_BYTES": "2048"}
"""Small limits, so that frames over them stay small."""


def with_hub(tmp_path: Path, story: Callable[[InProcessHub], Awaitable[None]], rasa: FakeRasa | None = None) -> None:
    async def main() -> None:
        async with running_hub(tmp_path / "hub.db", rasa, **LIMITS) as hub:
            await story(hub)

    asyncio.run(main())


def stored(hub: InProcessHub, conversation_id: str) -> list[tuple[int, str, str, str | None]]:
    """The conversation's messages as the database has them: id, sender, text, payload."""
    with hub.engine.connect() as conn:
        rows = conn.execute(
            select(t.messages.c.id, t.messages.c.sender, t.messages.c.text, t.messages.c.payload)
            .where(t.messages.c.conversation_id == conversation_id)
            .order_by(t.messages.c.id)
        ).all()
    return [tuple(row) for row in rows]


def is_message(sender: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "message" and e["message"]["sender"] == sender


def is_state(state: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "state" and e["state"] == state


def test_hello_gives_a_token_and_a_conversation_and_the_token_brings_the_widget_back_after_last_id(tmp_path):
    async def story(hub: InProcessHub) -> None:
        first = await hub.connected_customer()
        welcome = first.welcome
        assert welcome["state"] == "bot" and welcome["history"] == []
        assert welcome["limits"] == {"max_message_chars": 40}
        assert len(first.token) >= 20
        one = await first.say("first question")
        await first.wait_for(is_message("bot"))
        await first.say("second question")
        await hub.settled(first)
        await first.close()

        again = await hub.connected_customer(token=first.token, last_id=one["id"])
        assert again.conversation_id == first.conversation_id
        assert [(m["sender"], m["text"]) for m in again.welcome["history"]] == [
            ("bot", "I am the fake bot."),
            ("customer", "second question"),
            ("bot", "I am the fake bot."),
        ]
        stranger = await hub.connected_customer(token="too-short")
        assert stranger.token != first.token and stranger.conversation_id != first.conversation_id

    with_hub(tmp_path, story)


def test_a_message_is_acknowledged_once_stored_without_waiting_for_the_bot_and_a_resend_is_stored_once(tmp_path):
    release = asyncio.Event()
    hostile = "<b>hi</b>'; DROP TABLE hub_messages;--"  # within the 40 characters

    async def held(sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        await release.wait()
        return [says(f"You said: {text}")]

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        ack = await customer.say(hostile, "c-1")
        assert (ack["type"], ack["duplicate"]) == ("ack", False)
        assert stored(hub, customer.conversation_id) == [(ack["id"], "customer", hostile, None)]
        await customer.wait_for(lambda e: e["type"] == "typing")
        assert hub.rasa.texts() == [hostile] and customer.messages("bot") == [], "the bot has not answered yet"

        release.set()
        answer = await customer.wait_for(is_message("bot"))
        assert answer["message"]["text"] == f"You said: {hostile}"
        again = await customer.say(hostile, "c-1")
        assert (again["id"], again["duplicate"]) == (ack["id"], True)
        await hub.settled(customer)
        assert [row[1] for row in stored(hub, customer.conversation_id)] == ["customer", "bot"]
        assert hub.rasa.texts() == [hostile]

    with_hub(tmp_path, story, FakeRasa(responder=held))


def test_the_bots_buttons_reach_the_widget_and_a_tapped_one_sends_its_payload_and_shows_its_title(tmp_path):
    rasa = FakeRasa({"hi": [says("Hello! What can I do?", ("Track an order", "/track_order"))]})

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.say("hi")
        answer = (await customer.wait_for(is_message("bot")))["message"]
        assert answer["payload"] == {"buttons": [{"title": "Track an order", "payload": "/track_order"}]}
        seen = len(customer.events)
        await customer.send_frame(
            {"type": "button", "client_id": "b-1", "title": "Track an order", "payload": "/track_order"}
        )
        ack = await customer.wait_for(lambda e: e["type"] == "ack", after=seen)
        await hub.settled(customer)
        assert hub.rasa.texts() == ["hi", "/track_order"]
        assert stored(hub, customer.conversation_id)[-2][1:] == (
            "customer",
            "Track an order",
            '{"button": "/track_order"}',
        )
        assert stored(hub, customer.conversation_id)[-2][0] == ack["id"]

    with_hub(tmp_path, story, rasa)


BAD_FRAMES: list[tuple[dict[str, Any] | str, str]] = [
    ("this is not json", "bad_json"),
    ("[1, 2, 3]", "bad_json"),
    ({"type": "message", "client_id": "e-1", "text": "   "}, "empty"),
    ({"type": "message", "client_id": "e-2", "text": "\x00"}, "empty"),
    ({"type": "message", "client_id": "e-3", "text": 42}, "bad_text"),
    ({"type": "message", "client_id": "e-4", "text": "x" * 41}, "too_long"),
    ({"type": "button", "client_id": "e-5", "title": "Yes"}, "bad_button"),
    ({"type": "rating", "score": 9}, "bad_rating"),
    ({"type": "rating", "question": "stars", "score": 3}, "bad_rating"),
    ({"type": "teleport"}, "unknown_type"),
]


def test_bad_frames_each_get_an_error_code_the_socket_stays_open_and_nothing_is_stored_or_lost(tmp_path):
    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        errors = []
        for frame, _ in BAD_FRAMES:
            seen = len(customer.events)
            await customer.send_frame(frame if isinstance(frame, str) else json.dumps(frame))
            errors.append(await customer.wait_for(lambda e: e["type"] == "error", after=seen, timeout=5))
        assert [e["code"] for e in errors] == [code for _, code in BAD_FRAMES]
        assert all(e["message"] for e in errors)
        assert errors[5]["client_id"] == "e-4" and "40 characters" in errors[5]["message"]
        ack = await customer.say("x" * 40, "ok-1")
        assert ack["type"] == "ack"
        await hub.settled(customer)
        assert [row[1:3] for row in stored(hub, customer.conversation_id)] == [
            ("customer", "x" * 40),
            ("bot", "I am the fake bot."),
        ]
        assert hub.rasa.texts() == ["x" * 40]

    with_hub(tmp_path, story)


def test_the_first_frame_must_be_hello(tmp_path):
    async def story(hub: InProcessHub) -> None:
        async with websockets.connect(hub.url.replace("http", "ws") + "/ws/customer") as ws:
            await ws.send(json.dumps({"type": "message", "client_id": "m-1", "text": "hi"}))
            refused = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "hello"}))
            welcome = json.loads(await ws.recv())
        assert refused["code"] == "hello_first" and welcome["type"] == "welcome"
        assert hub.rasa.sent == []

    with_hub(tmp_path, story)


def test_a_frame_over_max_frame_bytes_closes_the_socket_with_1009_and_the_conversation_goes_on(tmp_path):
    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.send_frame({"type": "message", "client_id": "big", "text": "x" * 4000})
        await asyncio.wait_for(customer._reader, 5)
        assert customer.ws.close_code == 1009
        again = await hub.connected_customer(token=customer.token)
        assert again.conversation_id == customer.conversation_id
        assert (await again.say("still here?"))["type"] == "ack"
        await hub.settled(again)
        assert [row[1:3] for row in stored(hub, customer.conversation_id)] == [
            ("customer", "still here?"),
            ("bot", "I am the fake bot."),
        ]

    with_hub(tmp_path, story)


def test_when_rasa_is_down_the_customer_is_acknowledged_told_and_queued_for_a_person(tmp_path):
    rasa = FakeRasa()
    rasa.down = True

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        ack = await customer.say("where is my order?")
        sorry = await customer.wait_for(is_message("system"))
        queued = await customer.wait_for(is_state("queued"))
        assert ack["type"] == "ack" and "having trouble" in sorry["message"]["text"]
        assert queued["queue"]["position"] == 1
        agent = await hub.agent("sam")
        [waiting] = (await agent.get("/api/queue")).json()["waiting"]
        assert (waiting["id"], waiting["reason"], waiting["priority"]) == (
            customer.conversation_id,
            "bot_error",
            "high",
        )

    with_hub(tmp_path, story, rasa)


def test_talk_to_a_person_goes_to_the_bot_as_contact_human_agent_once_and_then_says_where_the_customer_stands(
    tmp_path,
):
    rasa = FakeRasa({"/contact_human_agent": [says("I'm bringing in a person from our team."), hands_off()]})

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.send_frame({"type": "human", "client_id": "h-1"})
        ack = await customer.wait_for(lambda e: e["type"] == "ack")
        await customer.wait_for(is_state("queued"))
        seen = len(customer.events)
        await customer.send_frame({"type": "human", "client_id": "h-2"})
        again = await customer.wait_for(lambda e: e["type"] == "ack", after=seen)
        where = await customer.wait_for(is_state("queued"), after=seen)
        await hub.settled(customer)
        assert ack["id"] is not None and again["id"] is None, "nothing is stored the second time"
        assert where["queue"]["position"] == 1
        assert hub.rasa.texts() == ["/contact_human_agent"]
        assert [row[1:3] for row in stored(hub, customer.conversation_id)][:2] == [
            ("customer", "Talk to a person"),
            ("bot", "I'm bringing in a person from our team."),
        ]

    with_hub(tmp_path, story, rasa)


def test_a_queued_customer_who_taps_carry_on_with_the_bot_is_back_with_the_bot(tmp_path):
    rasa = FakeRasa({"a person please": [hands_off()]})

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.say("a person please")
        offer = await customer.wait_for(is_message("system"))
        assert "/back_to_bot" in [b["payload"] for b in offer["message"]["payload"]["buttons"]]
        seen = len(customer.events)
        await customer.send_frame(
            {"type": "button", "client_id": "b-1", "title": "Carry on", "payload": "/back_to_bot"}
        )
        ack = await customer.wait_for(lambda e: e["type"] == "ack", after=seen)
        back = await customer.wait_for(is_message("system"), after=seen)
        assert ack["id"] is None and "back with the bot" in back["message"]["text"]
        await customer.wait_for(is_state("bot"), after=seen)  # the widget's header is right without a reload
        await customer.say("what payment methods do you take?")
        await customer.wait_for(is_message("bot"), after=seen)
        assert hub.rasa.texts() == ["a person please", "what payment methods do you take?"]

    with_hub(tmp_path, story, rasa)


def test_carry_on_with_the_bot_tapped_after_a_person_took_the_conversation_says_where_the_customer_stands(tmp_path):
    rasa = FakeRasa({"a person please": [hands_off()]})

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.say("a person please")
        await customer.wait_for(is_state("queued"))
        sam = await hub.agent("sam")
        assert (await sam.post(f"/api/conversations/{customer.conversation_id}/claim")).status_code == 200
        await customer.wait_for(is_state("agent"))
        seen = len(customer.events)
        await customer.send_frame(
            {"type": "button", "client_id": "late", "title": "Carry on", "payload": "/back_to_bot"}
        )
        told = await customer.wait_for(lambda e: e["type"] == "state" or e["type"] == "error", after=seen)
        assert told["state"] == "agent" and told["agent"] == {"name": "Sam (agent)"}

    with_hub(tmp_path, story, rasa)


def test_a_rating_asked_by_the_bot_is_taken_once(tmp_path):
    rasa = FakeRasa({"bye": [says("Goodbye!"), asks_rating()]})

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.say("bye")
        asked = await customer.wait_for(
            lambda e: e["type"] == "message" and "rating_request" in (e["message"]["payload"] or {})
        )
        verdicts = []
        for score in (5, 4):
            seen = len(customer.events)
            await customer.send_frame({"type": "rating", "score": score, "message_id": asked["message"]["id"]})
            verdicts.append((await customer.wait_for(lambda e: e["type"] == "rated", after=seen))["accepted"])
        assert verdicts == [True, False]
        with hub.engine.connect() as conn:
            assert conn.execute(select(t.ratings.c.score, t.ratings.c.agent_id)).all() == [(5, None)]

    with_hub(tmp_path, story, rasa)


def test_a_shop_page_vouching_for_its_customer_sends_the_id_to_the_bot_and_a_forged_signature_does_not(tmp_path):
    async def story(hub: InProcessHub) -> None:
        secret = hub.hub.settings.channel_secret
        vouched = await hub.connected_customer(
            shop_customer={"id": "C0001", "signature": sign_customer_id("C0001", secret)}
        )
        forged = await hub.connected_customer(shop_customer={"id": "C0001", "signature": "f" * 64})
        refused = await forged.wait_for(lambda e: e["type"] == "error")
        for customer in (vouched, forged):
            await customer.say("where is my order?")
        await hub.settled(vouched, forged)
        metadata = {s.sender_id: s.metadata for s in hub.rasa.sent}
        assert refused["code"] == "bad_signature"
        assert metadata[vouched.conversation_id]["customer_id"] == "C0001"
        assert "customer_id" not in metadata[forged.conversation_id]

    with_hub(tmp_path, story)


def test_while_the_database_is_down_the_widget_is_told_and_its_resent_message_is_stored_once_when_it_is_back(tmp_path):
    async def main(server: PrivatePostgres) -> None:
        async with running_hub(tmp_path / "unused.db", DATABASE_URL=server.url, **LIMITS) as hub:
            customer = await hub.connected_customer()
            await asyncio.to_thread(server.stop, "fast")
            await customer.send_frame({"type": "message", "client_id": "c-1", "text": "anyone there?"})
            told = await customer.wait_for(lambda e: e["type"] in {"ack", "error"})
            assert (told["type"], told["code"]) == ("error", "unavailable")
            assert "client_id" not in told, "an error naming the message would make the widget give it up"
            await asyncio.wait_for(customer.ws.wait_closed(), 5)

            await asyncio.to_thread(server.start)
            again = await hub.connected_customer(token=customer.token)
            assert again.conversation_id == customer.conversation_id
            ack = await again.say("anyone there?", "c-1")
            assert ack["type"] == "ack"
            await again.wait_for(is_message("bot"))
            engine = create_engine(server.url)
            with engine.connect() as conn:
                ids = conn.execute(select(t.messages.c.id).where(t.messages.c.client_message_id == "c-1")).all()
            engine.dispose()
            assert [row.id for row in ids] == [ack["id"]]

    with PrivatePostgres() as server:
        asyncio.run(main(server))
