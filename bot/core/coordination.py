"""What coordinates hubs, built from the settings: in this process's memory when the hub runs alone (REDIS_URL
empty), shared through Redis when several hubs serve one shop.

| piece | one hub | several hubs (Redis, keys under REDIS_PREFIX) |
|---|---|---|
| event bus | `EventBus` | `RedisEventBus`: pub/sub on `<prefix>:events:<topic>` |
| leases | `LocalLeases` | `RedisLeases`: `<prefix>:lease:<name>` |
| per-conversation order | `LocalConversationLocks` | `LeaseConversationLocks`: lease `conversation:<id>`, 15 s |
| reload gate | `LocalBotGate` | `RedisBotGate`: lease `bot-gate` and `<prefix>:gate:asking` |

Presence needs nothing here: agents' last-seen times are in SQL, one row per agent, whichever hub saw them.
"""

from __future__ import annotations

import dataclasses
import logging

from redis.asyncio import Redis

from bot.core.events import EventBus
from bot.core.leases import Leases, LocalLeases, RedisLeases
from bot.core.redis_events import RedisEventBus
from bot.core.redis_gate import RedisBotGate
from bot.core.runtime import BotGate, ConversationLocks, LeaseConversationLocks, LocalBotGate, LocalConversationLocks
from bot.core.settings import HubSettings

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2.0
"""Longest a Redis command (or connecting) may take: a hung Redis must not hold a customer's request for long."""
REDIS_HEALTH_CHECK_SECONDS = 10
"""A connection quiet this long is checked with a PING before use, so a dead one is noticed and replaced."""


@dataclasses.dataclass
class Coordination:
    bus: EventBus
    leases: Leases
    locks: ConversationLocks
    gate: BotGate
    redis: Redis | None = None

    @property
    def shared(self) -> bool:
        return self.redis is not None

    async def start(self) -> None:
        await self.bus.start()

    async def close(self) -> None:
        await self.bus.close()
        if self.redis is not None:
            await self.redis.close(close_connection_pool=True)


def coordination(settings: HubSettings) -> Coordination:
    """The pieces for these settings; call `start` in the event loop that serves, `close` when it stops."""
    if not settings.redis_url:
        return Coordination(EventBus(), LocalLeases(), LocalConversationLocks(), LocalBotGate())
    return shared_coordination(redis_client(settings.redis_url), settings.redis_prefix)


def shared_coordination(redis: Redis, prefix: str) -> Coordination:
    leases = RedisLeases(redis, prefix)
    logger.info("hubs coordinate through Redis, prefix %s", prefix)
    return Coordination(
        RedisEventBus(redis, prefix), leases, LeaseConversationLocks(leases), RedisBotGate(redis, prefix, leases), redis
    )


def redis_client(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=REDIS_HEALTH_CHECK_SECONDS,
    )
