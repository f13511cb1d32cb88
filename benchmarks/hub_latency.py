"""What the hub costs and how fast people reach each other through it.

    python -m benchmarks.hub_latency [--customers 10] [--messages 20] [--deliveries 200]

Starts its own Rasa server, action server and hub (over a copy of the demo shop and a fresh database) and
measures, in one run:
1. bot replies: N simulated web customers send routine messages over the WebSocket; time from sending to
   the bot's first answer, and throughput; then the same messages, same concurrency, straight to Rasa's REST
   channel. The difference is the hub's overhead.
2. delivery between people: a customer with an agent; customer → agent (the message reaching the agent's
   console socket) and agent → customer (the reply POST until the widget has it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from tests.hub_clients import AgentClient, CustomerClient
from tests.rasa_stack import RasaStack
from tests.shop_api_server import ShopApiServer

MESSAGES = (
    "where is my order 00123842?",
    "what payment methods do you accept?",
    "how long does delivery take to Germany?",
    "what is your refund policy?",
)


def summary(values: list[float], seconds: float | None = None) -> dict[str, float]:
    ordered = sorted(values)

    def pick(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))], 1)

    result = {"n": len(values), "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}
    if seconds:
        result["per_second"] = round(len(values) / seconds, 1)
    return result


async def through_hub(hub_url: str, customers: int, messages: int) -> tuple[list[float], float]:
    async def one_customer() -> list[float]:
        client = CustomerClient(hub_url)
        await client.connect()
        timings = []
        for n in range(messages):
            seen = len(client.events)
            started = time.perf_counter()
            await client.say(MESSAGES[n % len(MESSAGES)])
            await client.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", after=seen)
            timings.append((time.perf_counter() - started) * 1000)
        await client.close()
        return timings

    started = time.perf_counter()
    results = await asyncio.gather(*(one_customer() for _ in range(customers)))
    return [t for r in results for t in r], time.perf_counter() - started


async def straight_to_rasa(rasa_url: str, customers: int, messages: int) -> tuple[list[float], float]:
    async def one_customer(http: httpx.AsyncClient) -> list[float]:
        sender, timings = f"bench-{uuid.uuid4().hex}", []
        for n in range(messages):
            started = time.perf_counter()
            response = await http.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": MESSAGES[n % len(MESSAGES)]}
            )
            response.raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    async with httpx.AsyncClient(base_url=rasa_url, timeout=30) as http:
        started = time.perf_counter()
        results = await asyncio.gather(*(one_customer(http) for _ in range(customers)))
    return [t for r in results for t in r], time.perf_counter() - started


async def straight_to_servers(rasa_urls: list[str], customers: int, messages: int) -> tuple[list[float], float]:
    """`straight_to_rasa` with the customers shared evenly among several Rasa servers, all at once."""
    shares = [customers // len(rasa_urls) + (n < customers % len(rasa_urls)) for n in range(len(rasa_urls))]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(straight_to_rasa(url, share, messages) for url, share in zip(rasa_urls, shares, strict=True) if share)
    )
    return [t for times, _ in results for t in times], time.perf_counter() - started


async def deliveries(hub_url: str, count: int) -> tuple[list[float], list[float]]:
    customer, agent = CustomerClient(hub_url), AgentClient(hub_url)
    await customer.connect()
    await customer.say("I want to talk to a person")
    await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
    await agent.login()
    await agent.go_online()
    await agent.post(f"/api/conversations/{customer.conversation_id}/claim")
    await agent.ws.send(json.dumps({"type": "watch", "conversation_id": customer.conversation_id}))
    await asyncio.sleep(0.2)
    to_agent, to_customer = [], []
    for n in range(count):
        text = f"customer message {n}"
        started = time.perf_counter()
        await customer.send_frame({"type": "message", "client_id": uuid.uuid4().hex, "text": text})
        while True:
            event = json.loads(await agent.ws.recv())
            if event.get("type") == "message" and event["message"]["text"] == text:
                break
        to_agent.append((time.perf_counter() - started) * 1000)
        reply = f"agent reply {n}"
        seen = len(customer.events)
        started = time.perf_counter()
        await agent.post(f"/api/conversations/{customer.conversation_id}/messages", {"text": reply})
        await customer.wait_for(lambda e, r=reply: e["type"] == "message" and e["message"]["text"] == r, after=seen)
        to_customer.append((time.perf_counter() - started) * 1000)
    await customer.close()
    await agent.close()
    return to_agent, to_customer


async def measure(stack: RasaStack, customers: int, messages: int, count: int) -> dict[str, object]:
    await through_hub(stack.hub_url, 2, 2)
    hub_times, hub_seconds = await through_hub(stack.hub_url, customers, messages)
    rasa_times, rasa_seconds = await straight_to_rasa(stack.rasa_url, customers, messages)
    to_agent, to_customer = await deliveries(stack.hub_url, count)
    hub_p50, rasa_p50 = statistics.median(hub_times), statistics.median(rasa_times)
    return {
        "customers": customers,
        "messages_each": messages,
        "bot_reply_through_hub": summary(hub_times, hub_seconds),
        "bot_reply_straight_to_rasa": summary(rasa_times, rasa_seconds),
        "hub_overhead_p50_percent": round((hub_p50 / rasa_p50 - 1) * 100, 1),
        "customer_to_agent": summary(to_agent),
        "agent_to_customer": summary(to_customer),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--deliveries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        template = Path(workdir) / "template.db"
        ShopApiServer.seed_template(template)
        stack = RasaStack(Path(workdir), template).start()
        try:
            stack.start_hub()
            report = asyncio.run(measure(stack, args.customers, args.messages, args.deliveries))
        finally:
            stack.stop()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
