"""What a hub keeps in its own memory: the order of each conversation's messages, and the gate that pauses
the bot while Rasa swaps its model.

Both sit behind these small interfaces so that, with several hubs, a shared store (Redis locks, a shared
gate) can replace the per-process versions without touching the hub (docs/architecture.md, scaling plan).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol


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
