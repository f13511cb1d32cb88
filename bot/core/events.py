"""Live events between the hub's parts: a customer's socket, the agents' consoles, the queue.

Topics are strings (`conversation:<id>`, `queue`, `agent:<id>`). This bus lives in one process; with several hubs
`RedisEventBus` (bot/core/redis_events.py), the same API over Redis publish/subscribe, takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 1000


class Subscription:
    """Events of the topics subscribed to, in order; a slow reader loses its oldest events, never blocks others."""

    def __init__(self, bus: EventBus, topics: set[str]) -> None:
        self._bus = bus
        self.topics = set(topics)
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)

    def add(self, topic: str) -> None:
        self.topics.add(topic)
        self._bus._subscribers[topic].add(self)

    def remove(self, topic: str) -> None:
        self.topics.discard(topic)
        self._bus._subscribers[topic].discard(self)

    def deliver(self, event: dict[str, Any]) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            logger.warning("subscriber of %s is slow; dropped its oldest event", sorted(self.topics))
        self.queue.put_nowait(event)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    def close(self) -> None:
        for topic in self.topics:
            self._bus._subscribers[topic].discard(self)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.get()


class EventBus:
    """The bus of one hub process: an event reaches the subscribers of its topic in this process."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        """Nothing to connect to in one process; the shared bus connects here."""

    async def close(self) -> None:
        """Nothing to let go of in one process."""

    def subscribe(self, *topics: str) -> Subscription:
        subscription = Subscription(self, set(topics))
        for topic in topics:
            self._subscribers[topic].add(subscription)
        return subscription

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        self.deliver(topic, event)

    def deliver(self, topic: str, event: dict[str, Any]) -> None:
        """Hand the event to this process's subscribers of `topic`."""
        for subscription in list(self._subscribers.get(topic, ())):
            subscription.deliver(event)


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def notes_topic(conversation_id: str) -> str:
    """Agents-only events of a conversation (private notes, order actions): never sent to the customer."""
    return f"notes:{conversation_id}"


def agent_topic(agent_id: int) -> str:
    return f"agent:{agent_id}"


QUEUE_TOPIC = "queue"


LOGGED_OUT = "logged_out"


def logged_out(session_digest: str) -> dict[str, str]:
    """Published on the agent's topic at logout: the sockets of that session close at once. Consumed by the agent
    socket, never forwarded to a console."""
    return {"type": LOGGED_OUT, "session": session_digest}
