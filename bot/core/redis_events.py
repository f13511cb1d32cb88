"""The event bus of several hubs: `EventBus`'s API over Redis publish/subscribe.

Every event goes through Redis, to this hub's own subscribers too, so that every hub sees one conversation's
events in the one order Redis received them. A topic's channel is `<prefix>:events:<topic>`; each hub listens to
them all with one pattern (`PSUBSCRIBE <prefix>:events:*`), so a subscription never misses an event published
right after it (a per-topic SUBSCRIBE would still be on its way to Redis).

Redis down: `publish` hands the event to this hub's subscribers itself and returns, without failing the request
that published it (the messages are in SQL; another hub's clients catch up when they reconnect); the listener
reconnects, with backoff, and until it is back this hub's events reach this hub's subscribers directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.events import EventBus

logger = logging.getLogger(__name__)

START_WAIT_SECONDS = 5.0
"""How long a starting hub waits for its listener; past it the hub starts anyway and the listener keeps trying."""
READ_STEP_SECONDS = 1.0
"""The listener wakes at least this often, so that its health check (a PING) runs on a quiet connection."""
RECONNECT_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)
"""Waits between the listener's attempts to reconnect; the last repeats."""
QUIET_SECONDS = 5.0
"""After a publish failed, how long this hub does not try Redis again, unless its listener gets back first: a hung
Redis costs a request at most the client's timeout (REDIS_TIMEOUT_SECONDS) once in this time, not every event."""


class RedisEventBus(EventBus):
    """Events published on any hub sharing the Redis and prefix reach the subscribers on every one of them."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        super().__init__()
        self._redis = redis
        self._channel_prefix = f"{prefix}:events:"
        self._listening = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._quiet_until = 0.0

    @property
    def listening(self) -> bool:
        """True while events come back from Redis (and so reach this hub's subscribers that way)."""
        return self._listening.is_set()

    async def start(self, timeout: float = START_WAIT_SECONDS) -> None:
        """Start listening, and wait (up to `timeout`) until Redis confirms it."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever())
        if not await self.wait_listening(timeout):
            logger.warning("event bus: Redis not reachable yet; events stay on this hub until it is")

    async def wait_listening(self, timeout: float) -> bool:
        """Until events come back from Redis (at most `timeout`); whether they do."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout)
        return self.listening

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._listening.clear()

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """To every hub through Redis; to this hub's subscribers directly when Redis cannot bring it back."""
        try_redis = asyncio.get_running_loop().time() >= self._quiet_until
        if not self.listening:
            self.deliver(topic, event)
            if try_redis:
                await self._publish(topic, event)  # other hubs may still hear it
            return
        if not (try_redis and await self._publish(topic, event)):
            self.deliver(topic, event)

    async def _publish(self, topic: str, event: dict[str, Any]) -> bool:
        try:
            await self._redis.publish(self._channel_prefix + topic, json.dumps(event))
        except (RedisError, OSError) as exc:
            if asyncio.get_running_loop().time() >= self._quiet_until:
                logger.warning("event bus: publish to Redis failed (%s); delivering on this hub", type(exc).__name__)
            self._quiet_until = asyncio.get_running_loop().time() + QUIET_SECONDS
            return False
        return True

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
            except (RedisError, OSError) as exc:
                if self.listening:
                    failures = 0
                    logger.warning("event bus: lost Redis (%s); reconnecting", type(exc).__name__)
            finally:
                self._listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
            failures += 1

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(self._channel_prefix + "*")
            while True:
                message = await pubsub.get_message(timeout=READ_STEP_SECONDS)
                if message is None:
                    continue
                if message["type"] == "psubscribe":
                    self._listening.set()
                    self._quiet_until = 0.0
                    logger.info("event bus: listening on Redis")
                elif message["type"] == "pmessage":
                    self._received(message["channel"], message["data"])
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.reset()

    def _received(self, channel: str | bytes, data: str | bytes) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            event = json.loads(data)
        except ValueError:
            logger.warning("event bus: dropped an event that is not JSON on %s", name)
            return
        self.deliver(name.removeprefix(self._channel_prefix), event)
