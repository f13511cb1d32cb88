"""Rasa's per-conversation lock for several Rasa worker processes on one machine, with nothing to install.

Rasa runs one worker unless its lock store is shared by the workers (`SANIC_WORKERS` is ignored with the default
in-memory store, see `rasa.core.utils.number_of_sanic_workers`). Redis is the stock answer, and the scaled mode
uses it; on one machine the operating system's file locks are enough: each conversation maps to one byte of a lock
file (of `SLOTS`), locked with `fcntl.lockf`, which the kernel releases if a worker dies, so no lock outlives its
holder. Within a worker, an asyncio lock per conversation keeps Rasa's order (first come, first served).

A POSIX record lock belongs to the process, not to a coroutine: a worker that already holds a byte for one
conversation counts the coroutines using it (two conversations can share a byte), and releases it after the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockStore
from sqlalchemy.engine import make_url

from bot.store.database import PROJECT_ROOT, database_url

SLOTS = 65536
DEFAULT_LOCK_FILE = PROJECT_ROOT / "var" / "rasa-conversations.lock"
FIRST_WAIT_SECONDS = 0.002
LONGEST_WAIT_SECONDS = 0.05


class MachineLockStore(LockStore):
    """endpoints.yml: `lock_store: {type: bot.rasa.lock_store.MachineLockStore}`; `url` may name the lock file
    (by default beside DATABASE_URL's SQLite file, or var/rasa-conversations.lock)."""

    def __init__(self, endpoint_config: Any = None, path: str | Path | None = None) -> None:
        super().__init__()
        where = path or getattr(endpoint_config, "url", None) or default_lock_file()
        self.path = Path(where)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        """Per conversation: its lock in this worker, and how many coroutines hold or wait for it."""
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation across this machine's workers; `lock_lifetime` is not needed (see the module)."""
        local, users = self._local.get(conversation_id, (asyncio.Lock(), 0))
        self._local[conversation_id] = (local, users + 1)
        try:
            async with local:
                slot = slot_of(conversation_id)
                await self._take(slot)
                try:
                    yield TicketLock(conversation_id)
                finally:
                    self._give_back(slot)
        finally:
            local, users = self._local[conversation_id]
            if users == 1:
                del self._local[conversation_id]
            else:
                self._local[conversation_id] = (local, users - 1)

    async def _take(self, slot: int) -> None:
        wait = FIRST_WAIT_SECONDS
        while True:
            if self._users.get(slot):
                self._users[slot] += 1
                return
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
            except (BlockingIOError, PermissionError):
                await asyncio.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT_SECONDS)
                continue
            self._users[slot] = 1
            return

    def _give_back(self, slot: int) -> None:
        self._users[slot] -= 1
        if not self._users[slot]:
            del self._users[slot]
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, slot)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Rasa's ticket interface, for callers that ask: whether a conversation is being served here."""
        return TicketLock(conversation_id) if conversation_id in self._local else None

    def delete_lock(self, conversation_id: str) -> None:
        """Nothing is stored: a lock ends with its holder."""

    def save_lock(self, lock: TicketLock) -> None:
        """Nothing is stored: a lock ends with its holder."""


def default_lock_file() -> Path:
    """Beside the SQLite database the workers share (so separate set-ups on one machine keep apart), else var/."""
    url = make_url(database_url())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).with_suffix(".rasa-locks")
    return DEFAULT_LOCK_FILE


def slot_of(conversation_id: str) -> int:
    """The conversation's byte in the lock file: the same in every worker (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(conversation_id.encode(), digest_size=8).digest(), "big") % SLOTS
