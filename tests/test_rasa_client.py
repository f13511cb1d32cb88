"""The hub's client of Rasa: answers as reply items, failures as RasaUnavailable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from bot.core.rasa_client import (
    RasaClient,
    RasaTimeout,
    RasaUnavailable,
    RasaUnreachable,
    admin_jwt,
    replies_after,
)
from tests.rasa_stack import TOKEN, api_headers, free_port
from tests.rasa_wire import RasaWire


def test_an_unreachable_rasa_is_unreachable_not_a_crash():
    async def scenario() -> None:
        client = RasaClient(f"http://127.0.0.1:{free_port()}", "token", timeout=1.0)
        try:
            with pytest.raises(RasaUnreachable):
                await client.send("c1", "hello")
            assert await client.healthy() is False
        finally:
            await client.close()

    asyncio.run(scenario())


def test_the_real_rasa_answers_and_takes_tracker_events(assistant):
    async def scenario():
        client = RasaClient(assistant.rasa_url, TOKEN, timeout=10.0)
        try:
            replies = await client.send("rasa-client-test", "what payment methods do you accept?")
            await client.append_events("rasa-client-test", [{"event": "bot", "text": "an agent said this"}])
            return replies, await client.healthy()
        finally:
            await client.close()

    replies, healthy = asyncio.run(scenario())
    assert "PayPal" in replies[0]["text"] and healthy
    texts = [e.get("text") for e in assistant.tracker("rasa-client-test")["events"] if e["event"] == "bot"]
    assert "an agent said this" in texts


def test_a_slow_rasa_is_a_timeout_the_turn_may_still_finish():
    """A server that accepts the request and never answers: the hub must not call that a failure."""
    import socket

    async def scenario(port: int) -> None:
        client = RasaClient(f"http://127.0.0.1:{port}", "token", timeout=0.5)
        try:
            with pytest.raises(RasaTimeout):
                await client.send("c1", "hello")
        finally:
            await client.close()

    with socket.create_server(("127.0.0.1", 0)) as server:
        asyncio.run(scenario(server.getsockname()[1]))


def test_rasa_dropping_the_connection_or_answering_an_error_or_not_json_is_unavailable_and_says_which():
    def dropped(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("gone", request=request)

    answers = {
        "dropped": dropped,
        "error": lambda request: httpx.Response(500, text="Internal Server Error"),
        "not json": lambda request: httpx.Response(200, text="<html>proxy error</html>"),
        "not a list": lambda request: httpx.Response(200, json={"text": "hi"}),
    }
    said = {
        "dropped": "ServerDisconnectedError",
        "error": "Rasa answered 500 to POST /webhooks/rest/webhook: Internal Server Error",
        "not json": "not JSON",
        "not a list": "something other than a list",
    }

    async def scenario(answer: Callable[[httpx.Request], httpx.Response]) -> RasaUnavailable:
        wire = await RasaWire(answer).listen()
        client = RasaClient(wire.url, "token", timeout=5.0)
        try:
            with pytest.raises(RasaUnavailable) as failure:
                await client.send("c1", "hello")
            return failure.value
        finally:
            await client.close()
            await wire.refuse()

    for name, answer in answers.items():
        failure = asyncio.run(scenario(answer))
        assert not isinstance(failure, (RasaUnreachable, RasaTimeout)), name
        assert said[name] in failure.message, (name, failure.message)


def test_the_answer_to_one_hub_message_is_read_back_from_the_trackers_events():
    events = [
        {"event": "user", "text": "hi", "metadata": {"hub_message_id": 7}},
        {"event": "bot", "text": "Hello!", "data": {"buttons": None}},
        {"event": "user", "text": "track it", "metadata": {"hub_message_id": 8}},
        {"event": "action", "name": "action_track_order"},
        {"event": "bot", "text": "It ships today.", "data": {"buttons": [{"title": "OK", "payload": "/affirm"}]}},
        {"event": "bot", "data": {"custom": {"handoff": {"reason": "requested"}}}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "thanks", "metadata": {"hub_message_id": 9}},
    ]
    assert replies_after(events, 7) == [{"text": "Hello!"}]
    assert replies_after(events, 8) == [
        {"text": "It ships today.", "buttons": [{"title": "OK", "payload": "/affirm"}]},
        {"custom": {"handoff": {"reason": "requested"}}},
    ]
    assert replies_after(events, 9) == [], "a finished turn that said nothing"
    assert replies_after(events, 10) is None, "no such turn: Rasa never finished it"


def test_the_real_rasa_gives_back_the_answer_to_a_hub_message(assistant):
    async def scenario():
        client = RasaClient(assistant.rasa_url, TOKEN, timeout=10.0)
        try:
            sent = await client.send("rasa-client-turn", "what payment methods do you accept?", {"hub_message_id": 41})
            return sent, await client.turn("rasa-client-turn", 41), await client.turn("rasa-client-turn", 42)
        finally:
            await client.close()

    sent, recovered, missing = asyncio.run(scenario())
    assert [item["text"] for item in recovered] == [item["text"] for item in sent]
    assert missing is None


def test_rasas_api_refuses_a_token_in_the_url_and_takes_only_a_fresh_jwt_signed_with_it(assistant):
    status, tracker = f"{assistant.rasa_url}/status", f"{assistant.rasa_url}/conversations/someone/tracker"
    assert httpx.get(status, params={"token": TOKEN}).status_code == 401, "URL tokens end up in logs: none accepted"
    assert httpx.get(tracker, params={"token": TOKEN}).status_code == 401
    assert httpx.get(status, headers=api_headers()).status_code == 200
    assert httpx.get(tracker, headers=api_headers()).status_code == 200
    forged = jwt.encode({"user": {"username": "x", "role": "admin"}, "exp": time.time() + 60}, "not-the-secret")
    expired = admin_jwt(TOKEN, now=time.time() - 3600)
    for token in (forged, expired, TOKEN):
        assert httpx.get(status, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_every_api_call_carries_a_short_lived_admin_jwt_in_a_header_and_no_secret_in_the_url():
    secret = "the-rasa-secret-of-32-characters-at-least"
    seen: list[httpx.Request] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "m.tar.gz"})
        return httpx.Response(200, json={"events": []})

    async def scenario() -> None:
        wire = await RasaWire(rasa).listen()
        client = RasaClient(wire.url, secret, timeout=5.0)
        try:
            await client.turn("c1", 1)
            await client.append_events("c1", [])
            await client.replace_model("models/m.tar.gz")
            await client.healthy()
        finally:
            await client.close()
            await wire.refuse()

    asyncio.run(scenario())
    paths = ["/conversations/c1/tracker", "/conversations/c1/tracker/events", "/model", "/status", "/status"]
    assert [request.url.path for request in seen] == paths
    for request in seen:
        assert secret not in str(request.url) and "token" not in request.url.params
        claims = jwt.decode(request.headers["Authorization"].removeprefix("Bearer "), secret, ["HS256"])
        assert claims["user"] == {"username": "frontline-hub", "role": "admin"}
        assert 0 < claims["exp"] - time.time() <= 60
