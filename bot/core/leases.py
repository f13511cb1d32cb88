"""Leases: one holder at a time of a named thing (a conversation's turn, a Telegram chat's delivery, Telegram's
polling), for a limited time that the holder keeps renewing while it works, so that a dead holder's lease lapses
and another process takes over.

One hub: `LocalLeases`, in this process's memory. Several hubs: `RedisLeases`, on redis-py's `Lock` (SET NX PX
with a random token; only the token's holder extends or releases it), so the rule holds across machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

logger = logging.getLogger(__name__)

WAIT_STEP_SECONDS = 0.02
"""How often a waiting holder asks again for a shared lease: short, since a turn waits on it."""
UNREACHABLE_STEP_SECONDS = 0.5
"""How often a waiting holder asks again while Redis cannot be reached: it waits for Redis to come back."""


class Lease(Protocol):
    name: str

    async def renew(self) -> bool:
        """Hold the lease for another full term; False when it lapsed and may be someone else's now."""

    async def release(self) -> None:
        """Give it up (a lease that already lapsed is left alone)."""


class Leases(Protocol):
    async def try_acquire(self, name: str, seconds: float) -> Lease | None:
        """The lease when nobody holds it, else None at once."""

    def hold(self, name: str, seconds: float) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Wait for the lease, renew it in the background while the block runs, release it at the end."""

    async def held(self, name: str) -> bool:
        """Whether anybody holds the lease now (it may change the moment after)."""


class _LocalLease:
    def __init__(self, leases: LocalLeases, name: str, token: str, seconds: float) -> None:
        self.name = name
        self._leases = leases
        self._token = token
        self._seconds = seconds

    async def renew(self) -> bool:
        return self._leases._renew(self.name, self._token, self._seconds)

    async def release(self) -> None:
        self._leases._release(self.name, self._token)


class LocalLeases:
    """Leases inside one process: the same rules as the shared ones, for a hub that runs alone."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, float]] = {}

    async def try_acquire(self, name: str, seconds: float) -> Lease | None:
        now = asyncio.get_running_loop().time()
        holder = self._held.get(name)
        if holder is not None and holder[1] > now:
            return None
        token = secrets.token_hex(8)
        self._held[name] = (token, now + seconds)
        return _LocalLease(self, name, token, seconds)

    def hold(self, name: str, seconds: float) -> contextlib.AbstractAsyncContextManager[Lease]:
        return _holding(self, name, seconds)

    async def held(self, name: str) -> bool:
        holder = self._held.get(name)
        return holder is not None and holder[1] > asyncio.get_running_loop().time()

    def _renew(self, name: str, token: str, seconds: float) -> bool:
        holder = self._held.get(name)
        if holder is None or holder[0] != token:
            return False
        self._held[name] = (token, asyncio.get_running_loop().time() + seconds)
        return True

    def _release(self, name: str, token: str) -> None:
        holder = self._held.get(name)
        if holder is not None and holder[0] == token:
            del self._held[name]


class _RedisLease:
    def __init__(self, lock: Lock, name: str) -> None:
        self.name = name
        self._lock = lock

    async def renew(self) -> bool:
        try:
            return bool(await self._lock.reacquire())
        except LockError:
            return False

    async def release(self) -> None:
        with contextlib.suppress(LockError):
            await self._lock.release()


class RedisLeases:
    """Leases shared by every process that uses the same Redis and key prefix."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def key(self, name: str) -> str:
        """The Redis key of the lease `name` (it exists while somebody holds the lease)."""
        return f"{self._prefix}:lease:{name}"

    async def try_acquire(self, name: str, seconds: float) -> Lease | None:
        lock = self._redis.lock(self.key(name), timeout=seconds, blocking=False)
        if not await lock.acquire():
            return None
        return _RedisLease(lock, name)

    def hold(self, name: str, seconds: float) -> contextlib.AbstractAsyncContextManager[Lease]:
        return _holding(self, name, seconds)

    async def held(self, name: str) -> bool:
        return bool(await self._redis.exists(self.key(name)))


@contextlib.asynccontextmanager
async def _holding(leases: Leases, name: str, seconds: float) -> AsyncIterator[Lease]:
    lease = await _acquire(leases, name, seconds)
    renewing = asyncio.create_task(_keep_renewing(lease, seconds))
    try:
        yield lease
    finally:
        renewing.cancel()
        await asyncio.wait({renewing})  # unlike awaiting it, never swallows a cancellation of this task
        with contextlib.suppress(RedisError):
            await lease.release()


async def _acquire(leases: Leases, name: str, seconds: float) -> Lease:
    """Wait for the lease; while Redis is unreachable, wait for it to come back (the rule must hold across hubs)."""
    unreachable = False
    while True:
        try:
            lease = await leases.try_acquire(name, seconds)
        except (RedisError, OSError) as exc:
            if not unreachable:
                logger.warning("lease %s waits for Redis: %s", name, type(exc).__name__)
            unreachable = True
            await asyncio.sleep(UNREACHABLE_STEP_SECONDS)
            continue
        if lease is not None:
            return lease
        await asyncio.sleep(WAIT_STEP_SECONDS)


async def _keep_renewing(lease: Lease, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            renewed = await lease.renew()
        except RedisError as exc:
            logger.warning("lease %s could not be renewed: %s", lease.name, type(exc).__name__)
            continue
        if not renewed:
            logger.warning("lease %s lapsed while held; another process may hold it now", lease.name)
            return
