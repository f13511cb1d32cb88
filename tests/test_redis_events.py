"""The event bus of several hubs, on the real Redis: an event published on any hub reaches the subscribers on
every hub, in the order it was published; Redis down costs other hubs' events, never a request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.core.coordination import REDIS_TIMEOUT_SECONDS, redis_client
from bot.core.events import Subscription, conversation_topic
from bot.core.redis_events import RedisEventBus
from tests.shared_redis import RedisProxy, redis_clients


@asynccontextmanager
async def two_hubs() -> AsyncIterator[tuple[RedisEventBus, RedisEventBus]]:
    """The buses of two hubs (each with its own Redis connections) on one prefix, listening."""
    async with redis_clients(2) as (prefix, (one, two)):
        a, b = RedisEventBus(one, prefix), RedisEventBus(two, prefix)
        await a.start()
        await b.start()
        try:
            assert a.listening and b.listening
            yield a, b
        finally:
            await a.close()
            await b.close()


async def take(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    return [await asyncio.wait_for(subscription.get(), 5.0) for _ in range(count)]


def test_an_event_published_on_either_hub_reaches_the_subscribers_on_both_in_publish_order():
    async def main() -> None:
        async with two_hubs() as (a, b):
            topic = conversation_topic("c1")
            on_a, on_b = a.subscribe(topic), b.subscribe(topic)
            elsewhere = b.subscribe(conversation_topic("c2"))
            for n in range(60):
                await (a if n % 3 else b).publish(topic, {"n": n, "from": "a" if n % 3 else "b"})
            expected = [{"n": n, "from": "a" if n % 3 else "b"} for n in range(60)]
            assert await take(on_a, 60) == expected
            assert await take(on_b, 60) == expected
            await b.publish(conversation_topic("c2"), {"n": "last"})
            assert await take(elsewhere, 1) == [{"n": "last"}]
            assert on_a.queue.empty() and on_b.queue.empty(), "each event once, other topics not at all"

    asyncio.run(main())


def test_topics_added_removed_and_closed_on_one_hub_follow_events_from_the_other():
    async def main() -> None:
        async with two_hubs() as (a, b):
            follower = a.subscribe()  # Telegram's way: no topic first, conversations added as chats appear
            follower.add(conversation_topic("c1"))
            await b.publish(conversation_topic("c1"), {"n": 1})
            assert await take(follower, 1) == [{"n": 1}]
            follower.remove(conversation_topic("c1"))
            follower.add(conversation_topic("c2"))
            await b.publish(conversation_topic("c1"), {"n": 2})
            await b.publish(conversation_topic("c2"), {"n": 3})
            assert await take(follower, 1) == [{"n": 3}]
            follower.close()
            witness = a.subscribe(conversation_topic("c2"))
            await b.publish(conversation_topic("c2"), {"n": 4})
            assert await take(witness, 1) == [{"n": 4}]
            assert follower.queue.empty()

    asyncio.run(main())


def test_with_redis_cut_publishing_still_returns_and_reaches_this_hub_and_the_listener_comes_back():
    async def main() -> None:
        proxy = await RedisProxy().start()
        async with redis_clients(1) as (prefix, (direct,)):
            cut_off = redis_client(proxy.url)
            a, b = RedisEventBus(cut_off, prefix), RedisEventBus(direct, prefix)
            await a.start()
            await b.start()
            try:
                topic = conversation_topic("c1")
                on_a, on_b = a.subscribe(topic), b.subscribe(topic)
                await proxy.cut()
                loop = asyncio.get_running_loop()
                started = loop.time()
                for n in range(5):
                    await a.publish(topic, {"n": n})
                assert loop.time() - started < 2.5, "a request that publishes is not held up by a dead Redis"
                assert await take(on_a, 5) == [{"n": n} for n in range(5)], "this hub's own clients still hear"
                assert on_b.queue.empty()
                await proxy.restore()
                assert await a.wait_listening(10.0), "the listener reconnects"
                await b.publish(topic, {"n": "from b"})
                await a.publish(topic, {"n": "from a"})
                assert await take(on_a, 2) == [{"n": "from b"}, {"n": "from a"}]
                assert await take(on_b, 2) == [{"n": "from b"}, {"n": "from a"}]
            finally:
                await a.close()
                await b.close()
                await proxy.cut()
                await cut_off.close(close_connection_pool=True)

    asyncio.run(main())


def test_a_hub_starts_while_redis_is_unreachable_and_its_events_reach_its_own_subscribers():
    async def main() -> None:
        proxy = await RedisProxy().start()
        await proxy.cut()
        redis = redis_client(proxy.url)
        bus = RedisEventBus(redis, "unreachable")
        try:
            await bus.start(timeout=0.3)
            assert not bus.listening
            subscription = bus.subscribe("queue")
            await bus.publish("queue", {"type": "queued"})
            assert await take(subscription, 1) == [{"type": "queued"}]
        finally:
            await bus.close()
            await redis.close(close_connection_pool=True)

    asyncio.run(main())


def test_a_hung_redis_holds_up_a_publishing_request_once_for_the_clients_timeout_not_on_every_event():
    async def main() -> None:
        silent: list[asyncio.StreamWriter] = []

        async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            silent.append(writer)

        server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        redis = redis_client(f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0")
        bus = RedisEventBus(redis, "hung")
        try:
            await bus.start(timeout=0.3)
            subscription = bus.subscribe("queue")
            loop = asyncio.get_running_loop()
            started = loop.time()
            for n in range(20):
                await bus.publish("queue", {"n": n})
            assert loop.time() - started < REDIS_TIMEOUT_SECONDS + 1.0
            assert await take(subscription, 20) == [{"n": n} for n in range(20)]
        finally:
            await bus.close()
            await redis.close(close_connection_pool=True)
            for writer in silent:
                writer.close()
            server.close()

    asyncio.run(main())
