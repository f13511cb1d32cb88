"""The customer WebSocket protocol: stored before acknowledged, nothing twice, nothing missed, bad frames refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator

import pytest
import websockets
from sqlalchemy import func, select

from bot.domain.tokens import sign_customer_id
from bot.store import schema as t
from bot.store.database import create_engine
from tests.hub_clients import AgentClient, CustomerClient
from tests.rasa_stack import RasaStack


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
        ({"type": "rating", "score": 0}, "bad_rating"),
        ({"type": "rating", "question": "csat", "score": 0}, "bad_rating"),
        ({"type": "rating", "question": "csat", "score": True}, "bad_rating"),
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


@contextlib.contextmanager
def hub_asking(hub: RasaStack, questions: str) -> Iterator[RasaStack]:
    """The module's hub restarted on its database with FEEDBACK_QUESTIONS=`questions`, then as it was."""
    database = f"sqlite:///{hub.hub_database}"
    hub.start_hub(env={"DATABASE_URL": database, "FEEDBACK_QUESTIONS": questions})
    try:
        yield hub
    finally:
        hub.start_hub(env={"DATABASE_URL": database})


def is_rating_request(question: str):
    return lambda e: (
        e["type"] == "message"
        and (e["message"]["payload"] or {}).get("rating_request") is True
        and e["message"]["payload"].get("question") == question
    )


async def resolved_by_an_agent(hub_url: str) -> tuple[CustomerClient, AgentClient]:
    """A web customer asks for a person, the demo agent claims and resolves; both clients, still open."""
    customer, agent = CustomerClient(hub_url), AgentClient(hub_url)
    await customer.connect()
    await customer.send_frame({"type": "human", "client_id": uuid.uuid4().hex})
    await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
    assert (await agent.login()).status_code == 200
    assert (await agent.post(f"/api/conversations/{customer.conversation_id}/claim")).status_code == 200
    assert (await agent.post(f"/api/conversations/{customer.conversation_id}/resolve")).status_code == 200
    return customer, agent


def feedback_rows(hub, conversation_id: str) -> dict[str, list[tuple]]:
    with create_engine(f"sqlite:///{hub.hub_database}").connect() as conn:
        return {
            name: [
                tuple(row)
                for row in conn.execute(
                    select(table.c.score, table.c.comment, table.c.agent_id, table.c.handoff_id)
                    .where(table.c.conversation_id == conversation_id)
                    .order_by(table.c.id)
                )
            ]
            for name, table in (("csat", t.ratings), ("nps", t.nps_scores))
        }


BAD_NPS_FRAMES = [
    {"type": "rating", "question": "nps", "score": 11},
    {"type": "rating", "question": "nps", "score": -1},
    {"type": "rating", "question": "nps", "score": True},
    {"type": "rating", "question": "nps", "score": "7"},
    {"type": "rating", "question": "nps", "score": 7.0},
    {"type": "rating", "question": "nps"},
    {"type": "rating", "question": "stars", "score": 7},
    {"type": "rating", "question": None, "score": 7},
    {"type": "rating", "question": ["nps"], "score": 7},
]


def test_a_shop_asking_nps_gets_a_0_to_10_answer_credited_to_the_agent_and_bad_ones_refused(hub):
    async def scenario():
        customer, agent = await resolved_by_an_agent(hub.hub_url)
        try:
            asked = await customer.wait_for(is_rating_request("nps"))
            errors = []
            for frame in BAD_NPS_FRAMES:
                seen = len(customer.events)
                await customer.send_frame(frame)
                errors.append(await customer.wait_for(lambda e: e["type"] in {"error", "rated"}, after=seen))
            seen = len(customer.events)
            await customer.send_frame({"type": "rating", "question": "nps", "score": 0, "comment": "Too slow"})
            rated = await customer.wait_for(lambda e: e["type"] == "rated", after=seen)
            thanks = await customer.wait_for(
                lambda e: e["type"] == "message" and e["message"]["sender"] == "system", after=seen
            )
            seen = len(customer.events)
            await customer.send_frame({"type": "rating", "question": "nps", "score": 10})
            again = await customer.wait_for(lambda e: e["type"] == "rated", after=seen)
            return customer, agent.agent["id"], asked["message"], errors, rated, thanks["message"], again
        finally:
            await customer.close()
            await agent.close()

    with hub_asking(hub, "nps"):
        customer, agent_id, asked, errors, rated, thanks, again = run(scenario)
    assert asked["sender"] == "system" and "recommend us" in asked["text"]
    assert [b["payload"] for b in asked["payload"]["buttons"]] == [str(n) for n in range(11)]
    assert [(e["type"], e.get("code")) for e in errors] == [("error", "bad_rating")] * len(BAD_NPS_FRAMES)
    assert "0 to 10" in errors[0]["message"]
    assert rated["accepted"] is True and thanks["text"] == "Thank you for your feedback!"
    assert again["accepted"] is False, "one answer per handoff"
    rows = feedback_rows(hub, customer.conversation_id)
    assert rows["csat"] == []
    assert [row[:3] for row in rows["nps"]] == [(0, "Too slow", agent_id)] and rows["nps"][0][3] is not None


def test_a_shop_asking_both_gets_the_stars_then_nps_credited_to_the_agent(hub):
    async def scenario():
        customer, agent = await resolved_by_an_agent(hub.hub_url)
        try:
            first = await customer.wait_for(is_rating_request("csat"))
            asked_nps_too_soon = [e for e in customer.events if is_rating_request("nps")(e)]
            seen = len(customer.events)
            await customer.send_frame({"type": "rating", "question": "csat", "score": 4, "comment": "Kind"})
            rated_csat = await customer.wait_for(lambda e: e["type"] == "rated", after=seen)
            second = await customer.wait_for(is_rating_request("nps"), after=seen)
            seen = len(customer.events)
            await customer.send_frame({"type": "rating", "question": "nps", "score": 9})
            rated_nps = await customer.wait_for(lambda e: e["type"] == "rated", after=seen)
            thanks = await customer.wait_for(
                lambda e: e["type"] == "message" and e["message"]["sender"] == "system", after=seen
            )
            await asyncio.sleep(0.3)
            requests = [e for e in customer.events if e["type"] == "message" and "rating_request" in str(e)]
            return (
                customer,
                agent.agent["id"],
                first["message"],
                asked_nps_too_soon,
                rated_csat,
                second["message"],
                rated_nps,
                thanks["message"],
                requests,
            )
        finally:
            await customer.close()
            await agent.close()

    with hub_asking(hub, "csat,nps"):
        customer, agent_id, first, too_soon, rated_csat, second, rated_nps, thanks, requests = run(scenario)
    assert "How did we do?" in first["text"]
    assert [b["payload"] for b in first["payload"]["buttons"]] == ["5", "4", "3", "2", "1"]
    assert too_soon == [], "NPS is asked only once the stars are answered"
    assert rated_csat["accepted"] is True
    assert second["sender"] == "system" and second["text"].startswith("Thank you! One more question.")
    assert "recommend us" in second["text"] and second["id"] > first["id"]
    assert rated_nps["accepted"] is True and thanks["text"] == "Thank you for your feedback!"
    assert len(requests) == 2, "no third question after the last answer"
    rows = feedback_rows(hub, customer.conversation_id)
    assert [row[:3] for row in rows["csat"]] == [(4, "Kind", agent_id)]
    assert [row[:3] for row in rows["nps"]] == [(9, None, agent_id)]
    assert rows["csat"][0][3] == rows["nps"][0][3] is not None, "both credited to the same handoff"


def test_answers_nobody_asked_for_are_refused_and_an_asked_question_counts_once(hub):
    async def scenario():
        customer = CustomerClient(hub.hub_url)
        await customer.connect()
        try:
            verdicts = []
            for frame in (
                {"type": "rating", "question": "csat", "score": 5},
                {"type": "rating", "question": "nps", "score": 10},
                {"type": "rating", "question": "csat", "score": 5, "message_id": 1},
            ):
                seen = len(customer.events)
                await customer.send_frame(frame)
                verdicts.append((await customer.wait_for(lambda e: e["type"] == "rated", after=seen))["accepted"])
            await customer.say("goodbye")
            asked = await customer.wait_for(is_rating_request("csat"))
            for score in (2, 5):
                seen = len(customer.events)
                await customer.send_frame(
                    {"type": "rating", "question": "csat", "score": score, "message_id": asked["message"]["id"]}
                )
                verdicts.append((await customer.wait_for(lambda e: e["type"] == "rated", after=seen))["accepted"])
            return customer, verdicts
        finally:
            await customer.close()

    customer, verdicts = run(scenario)
    assert verdicts == [False, False, False, True, False]
    assert feedback_rows(hub, customer.conversation_id) == {"csat": [(2, None, None, None)], "nps": []}
