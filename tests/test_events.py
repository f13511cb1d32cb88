"""The event bus: subscribers get their topics' events in order; a slow one loses its oldest, alone."""

from __future__ import annotations

import asyncio

from bot.core.events import QUEUE_LIMIT, EventBus, conversation_topic, notes_topic


def test_events_reach_only_the_subscribers_of_their_topic_in_order():
    async def scenario():
        bus = EventBus()
        customer = bus.subscribe(conversation_topic("c1"))
        agent = bus.subscribe(conversation_topic("c1"), notes_topic("c1"))
        other = bus.subscribe(conversation_topic("c2"))
        for n in range(3):
            await bus.publish(conversation_topic("c1"), {"n": n})
        await bus.publish(notes_topic("c1"), {"note": True})
        return [customer.queue.qsize(), agent.queue.qsize(), other.queue.qsize()], [
            await customer.get() for _ in range(3)
        ]

    sizes, received = asyncio.run(scenario())
    assert sizes == [3, 4, 0]
    assert received == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_slow_subscriber_drops_its_oldest_events_and_a_closed_one_gets_nothing():
    async def scenario():
        bus = EventBus()
        slow = bus.subscribe("t")
        for n in range(QUEUE_LIMIT + 5):
            await bus.publish("t", {"n": n})
        first = await slow.get()
        slow.close()
        await bus.publish("t", {"n": "after"})
        return first, slow.queue.qsize()

    first, left = asyncio.run(scenario())
    assert first == {"n": 5}
    assert left == QUEUE_LIMIT - 1
