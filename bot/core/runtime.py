"""The order of each conversation's messages, and the gate that pauses the bot while Rasa swaps its model.

Both sit behind these small interfaces: one hub keeps them in its own memory (`LocalConversationLocks`,
`LocalBotGate`); several hubs share them through Redis (`LeaseConversationLocks` on `RedisLeases`, and
`RedisBotGate` in bot/core/redis_gate.py), built by bot/core/coordination.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.core.leases import Leases

CONVERSATION_LEASE_SECONDS = 15.0
"""Term of a conversation's lease across hubs, renewed every third of it while held: a dead hub's turn lapses
this long after it died, and then another hub carries the conversation on."""


class ConversationLocks(Protocol):
    def hold(self, conversation_id: str) -> AbstractAsyncContextManager[object]:
        """One customer message at a time per conversation reaches the bot, in order."""


class BotGate(Protocol):
    def asking(self) -> AbstractAsyncContextManager[None]:
        """Wait while the gate is closed, then count this call to Rasa as in flight until it ends."""

    def closed(self) -> AbstractAsyncContextManager[None]:
        """Close the gate (one closer at a time) and wait until no call to Rasa is in flight."""


class LocalConversationLocks:
    """An asyncio lock per conversation, forgotten once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def hold(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock


class LeaseConversationLocks:
    """One conversation's turn at a time across hubs: this process's lock first (so its own waiters queue here, in
    order, and only one of them asks Redis), then the conversation's shared lease, renewed while held."""

    def __init__(self, leases: Leases, seconds: float = CONVERSATION_LEASE_SECONDS) -> None:
        self._leases = leases
        self._seconds = seconds
        self._local = LocalConversationLocks()

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[object]:
        lease_name = conversation_lease(conversation_id)
        async with self._local.hold(conversation_id), self._leases.hold(lease_name, self._seconds) as lease:
            yield lease


def conversation_lease(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class LocalBotGate:
    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._in_flight = 0
        self._closing = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def asking(self) -> AsyncIterator[None]:
        await self._open.wait()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    @contextlib.asynccontextmanager
    async def closed(self) -> AsyncIterator[None]:
        async with self._closing:
            self._open.clear()
            try:
                while self._in_flight:
                    await asyncio.sleep(0.05)
                yield
            finally:
                self._open.set()
