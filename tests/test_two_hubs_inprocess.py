"""Two real hub apps (`create_app`, REDIS_URL set) in one process on one database and one Redis prefix: a customer
on hub A's WebSocket and an agent on hub B's console and socket are live both ways."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.inprocess import FakeRasa, hands_off, running_hub, says
from tests.shared_redis import REDIS_URL, redis_clients


async def next_event(ws: Any, wanted: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """The next event on an agent's socket whose fields include `wanted` (a `message` field is matched inside)."""

    async def find() -> dict[str, Any]:
        while True:
            event = json.loads(await ws.recv())
            inner = {**event, **event.get("message", {})} if isinstance(event.get("message"), dict) else event
            if all(inner.get(key) == value for key, value in wanted.items()):
                return event

    return await asyncio.wait_for(find(), timeout)


def test_a_customer_on_hub_a_and_an_agent_on_hub_b_are_live_both_ways(tmp_path: Path):
    rasa = FakeRasa({"hello": [says("Hi!")], "a person please": [hands_off()]})

    async def main() -> None:
        async with redis_clients(1) as (prefix, _clients):
            env = {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}
            async with (
                running_hub(tmp_path / "hub.db", rasa, **env) as a,
                running_hub(tmp_path / "hub.db", rasa, **env) as b,
            ):
                customer = await a.connected_customer()
                sam = await b.agent("sam")
                await sam.go_online()
                await customer.say("hello")
                await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["text"] == "Hi!")
                await customer.say("a person please")
                await next_event(sam.ws, {"type": "queued"})  # hub B's console hears the queue of hub A

                base = f"/api/conversations/{customer.conversation_id}"
                assert (await sam.post(f"{base}/claim")).status_code == 200
                joined = await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
                assert joined["agent"] == {"name": "Sam (agent)"}
                await sam.ws.send(json.dumps({"type": "watch", "conversation_id": customer.conversation_id}))
                assert (await sam.post(f"{base}/messages", {"text": "Sam here."})).status_code == 201
                await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["text"] == "Sam here.")

                await customer.say("It is the blue one")
                await next_event(sam.ws, {"type": "message", "sender": "customer", "text": "It is the blue one"})
                await a.settled(customer)
                assert rasa.texts() == ["hello", "a person please"], "the bot is silent while Sam has it"
                assert not [m for m in customer.messages("bot") if m["text"] != "Hi!"]

    asyncio.run(main())
