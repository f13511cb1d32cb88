"""The reload gate of several hubs: while one hub swaps Rasa's model, no hub sends Rasa a message.

Keys (under the shared prefix):
- `lease:bot-gate`, the closer's lease (`RedisLeases`): it exists while the gate is closed, one closer at a time
  across hubs, renewed while the reload runs, so that a dead closer's gate opens again within its term;
- `gate:asking`, a sorted set of the calls to Rasa in flight on every hub, each scored with the Redis time at
  which it lapses; the call renews it while it runs, so that a dead hub's calls stop counting within the term.

The handshake is one Lua script on each side, which Redis runs one at a time: an asker registers only if the gate
is open; the closer closes first, then waits until no live registration is left. So either an asker registered
before the gate closed (and the closer waits for it) or it sees the gate closed (and waits for it to open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.leases import RedisLeases

logger = logging.getLogger(__name__)

GATE_LEASE = "bot-gate"
GATE_SECONDS = 15.0
"""Term of the closer's lease and of each in-flight registration; both are renewed every third of it."""
WAIT_STEP_SECONDS = 0.05
"""How often a waiting asker looks whether the gate opened, and the closer whether the calls drained."""

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
REGISTER = (
    _NOW_MS
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""
)
"""Register a call in flight, unless the gate is closed (KEYS: gate, asking; ARGV: member, term in ms)."""
RENEW = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
)
"""Keep a registration alive (KEYS: asking; ARGV: member, term in ms)."""
IN_FLIGHT = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""
)
"""How many live registrations are left, once the lapsed ones are dropped (KEYS: asking)."""


class RedisBotGate:
    """`BotGate` across every hub that shares the Redis and prefix."""

    def __init__(self, redis: Redis, prefix: str, leases: RedisLeases, seconds: float = GATE_SECONDS) -> None:
        self._leases = leases
        self._seconds = seconds
        self._term_ms = int(seconds * 1000)
        self._gate_key = leases.key(GATE_LEASE)
        self._asking_key = f"{prefix}:gate:asking"
        self._register: Any = redis.register_script(REGISTER)
        self._renew: Any = redis.register_script(RENEW)
        self._in_flight: Any = redis.register_script(IN_FLIGHT)
        self._redis = redis
        self._hub = secrets.token_hex(6)

    @contextlib.asynccontextmanager
    async def asking(self) -> AsyncIterator[None]:
        member = f"{self._hub}:{secrets.token_hex(6)}"
        if not await self._enter(member):
            yield  # Redis is unreachable: the bot is not held up by it (no reload can close the gate meanwhile)
            return
        renewing = asyncio.create_task(self._keep(member))
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            with contextlib.suppress(RedisError, OSError):
                await self._redis.zrem(self._asking_key, member)

    @contextlib.asynccontextmanager
    async def closed(self) -> AsyncIterator[None]:
        async with self._leases.hold(GATE_LEASE, self._seconds):
            while await self._in_flight(keys=[self._asking_key]):
                await asyncio.sleep(WAIT_STEP_SECONDS)
            yield

    async def _enter(self, member: str) -> bool:
        """Wait while the gate is closed, then register the call; False when Redis cannot be reached."""
        waited = False
        while True:
            try:
                entered = await self._register(keys=[self._gate_key, self._asking_key], args=[member, self._term_ms])
            except (RedisError, OSError) as exc:
                logger.warning("bot gate: Redis unreachable (%s); asking Rasa without the gate", type(exc).__name__)
                return False
            if entered:
                return True
            if not waited:
                logger.info("bot gate: closed for a model reload; this call waits")
                waited = True
            await asyncio.sleep(WAIT_STEP_SECONDS)

    async def _keep(self, member: str) -> None:
        while True:
            await asyncio.sleep(self._seconds / 3)
            try:
                await self._renew(keys=[self._asking_key], args=[member, self._term_ms])
            except (RedisError, OSError) as exc:
                logger.warning("bot gate: could not renew a call in flight: %s", type(exc).__name__)
