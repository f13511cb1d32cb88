"""The hub's client of Rasa: answers as reply items, failures as RasaUnavailable."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.rasa_client import RasaClient, RasaUnavailable
from tests.rasa_stack import TOKEN, free_port


def test_an_unreachable_rasa_is_unavailable_not_a_crash():
    client = RasaClient(f"http://127.0.0.1:{free_port()}", "token", timeout=1.0)
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.send("c1", "hello"))
    assert asyncio.run(client.healthy()) is False


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
