"""The customer WebSocket protocol: stored before acknowledged, nothing twice, nothing missed, bad frames refused."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from sqlalchemy import func, select

from actions.database import create_engine
from actions.verification import sign_customer_id
from bot import schema as t
from tests.hub_clients import CustomerClient


def run(scenario):
    return asyncio.run(scenario())


def stored_count(hub, conversation_id: str, text: str) -> int:
    with create_engine(f"sqlite:///{hub.hub_database}").connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(t.messages)
            .where(t.messages.c.conversation_id == conversation_id, t.messages.c.text == text)
        ).scalar_one()


def test_a_resent_message_is_acknowledged_again_and_stored_once(hub):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        client_id = uuid.uuid4().hex
        first = await customer.say("hello there", client_id)
        second = await customer.say("hello there", client_id)
        await customer.close()
        return customer, first, second

    customer, first, second = run(scenario)
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert first["id"] == second["id"]
    assert stored_count(hub, customer.conversation_id, "hello there") == 1


def test_a_reconnecting_widget_gets_the_same_conversation_and_what_it_missed(hub):
    async def scenario():
        first = CustomerClient(hub.hub_url)
        await first.connect()
        await first.say("what payment methods do you take?")
        answer = await first.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot")
        seen_before = answer["message"]["id"] - 1
        await first.close()
        again = CustomerClient(hub.hub_url)
        welcome = await again.connect(token=first.token, last_id=seen_before)
        await again.close()
        return first, welcome, answer

    first, welcome, answer = run(scenario)
    assert welcome["conversation_id"] == first.conversation_id
    assert welcome["history"][0]["id"] == answer["message"]["id"]


def test_a_new_widget_gets_a_new_token_and_conversation(hub):
    async def scenario():
        one, two = CustomerClient(hub.hub_url), CustomerClient(hub.hub_url)
        await one.connect()
        await two.connect(token="not-a-real-token-but-long-enough")
        await one.close()
        await two.close()
        return one, two

    one, two = run(scenario)
    assert one.token != two.token and one.conversation_id != two.conversation_id


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "bad_json"),
        ("[1, 2, 3]", "bad_json"),
        ({"type": "message", "client_id": "a1", "text": "   "}, "empty"),
        ({"type": "message", "client_id": "a2", "text": 42}, "bad_text"),
        ({"type": "message", "client_id": "a3", "text": "x" * 4001}, "too_long"),
        ({"type": "rating", "score": 9}, "bad_rating"),
        ({"type": "teleport"}, "unknown_type"),
    ],
)
def test_bad_frames_get_a_clear_error_and_the_socket_stays_open(hub, frame, code):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        await customer.send_frame(frame)
        error = await customer.wait_for(lambda e: e["type"] == "error")
        pong_wait = customer.wait_for(lambda e: e["type"] == "pong")
        await customer.send_frame({"type": "ping"})
        await pong_wait
        await customer.close()
        return error

    assert run(scenario)["code"] == code


def test_the_first_frame_must_be_hello(hub):
    async def scenario():
        async with websockets.connect(hub.hub_url.replace("http", "ws") + "/ws/customer") as ws:
            await ws.send(json.dumps({"type": "message", "text": "hi"}))
            return json.loads(await ws.recv())

    assert run(scenario)["code"] == "hello_first"


def test_a_frame_over_the_limit_closes_the_socket_with_message_too_big(hub):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        await customer.send_frame({"type": "message", "client_id": "big", "text": "x" * 100_000})
        await asyncio.wait_for(customer._reader, 10)
        return customer.ws.close_code

    assert run(scenario) == 1009


def test_html_and_sql_are_stored_and_echoed_exactly_as_typed(hub):
    hostile = "<script>alert(1)</script>'; DROP TABLE hub_messages; --"

    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        ack = await customer.say(hostile)
        echo = await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["id"] == ack["id"])
        await customer.close()
        return customer, echo

    customer, echo = run(scenario)
    assert echo["message"]["text"] == hostile
    assert stored_count(hub, customer.conversation_id, hostile) == 1


def test_the_talk_to_a_person_button_queues_with_the_bots_packet(hub):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        await customer.say("cancel my order please")
        await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot")
        await customer.send_frame({"type": "human", "client_id": uuid.uuid4().hex})
        state = await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        await customer.close()
        return state

    assert run(scenario)["queue"]["position"] >= 1


def test_a_customer_can_leave_the_queue_and_carry_on_with_the_bot(hub):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        await customer.say("get me a human")
        offer = await customer.wait_for(
            lambda e: (
                e["type"] == "message"
                and any(b["payload"] == "/back_to_bot" for b in (e["message"]["payload"] or {}).get("buttons", []))
            )
        )
        await customer.send_frame(
            {"type": "button", "client_id": "b1", "title": "Carry on with the bot", "payload": "/back_to_bot"}
        )
        await customer.wait_for(lambda e: e["type"] == "message" and "back with the bot" in e["message"]["text"])
        seen = len(customer.events)
        await customer.say("what payment methods do you accept?")
        answer = await customer.wait_for(
            lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", after=seen
        )
        await customer.close()
        return offer, answer

    offer, answer = run(scenario)
    assert "not available right now" in offer["message"]["text"]
    assert "PayPal" in answer["message"]["text"]


def test_a_shop_page_can_vouch_for_its_logged_in_customer(hub):
    secret = "frontline-dev-channel-secret"

    async def scenario():
        vouched, forged = CustomerClient(hub.hub_url), CustomerClient(hub.hub_url)
        await vouched.connect(shop_customer={"id": "C0001", "signature": sign_customer_id("C0001", secret)})
        await forged.connect(shop_customer={"id": "C0001", "signature": "f" * 64})
        refused = await forged.wait_for(lambda e: e["type"] == "error")
        results = []
        for customer in (vouched, forged):
            await customer.say("where is my order 00123842?")
            await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot")
            await asyncio.sleep(0.5)
            results.append(" ".join(m["text"] for m in customer.messages("bot")))
            await customer.close()
        return refused, results

    refused, (vouched_text, forged_text) = run(scenario)
    assert refused["code"] == "bad_signature"
    assert "Station Road" in vouched_text
    assert "Station Road" not in forged_text
