"""Several Rasa servers behind one hub: RASA_URL may list them, comma-separated.

They share the tracker store and the lock store, so any of them can answer any conversation; the hub still sends
each conversation to one of them, so that whatever Rasa keeps of a conversation between turns stays warm on one
server. A new conversation goes to the server with the fewest active ones (`Homes`). When a conversation's server
cannot be reached (no connection: it never saw the request), the next one in the ring takes the call and becomes
its server, and the unreachable one is tried last for a few seconds. A new model goes to every server; the hub is
healthy when any server is.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bot.core.rasa_client import RasaApi, RasaClient, RasaUnavailable, RasaUnreachable
from bot.core.settings import HubSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")

DOWN_SECONDS = 5.0
"""How long a server that could not be reached is tried after the others."""
ACTIVE_SECONDS = 300.0
"""A conversation counts towards its server's load until it has been quiet this long."""


def rasa_urls(setting: str) -> list[str]:
    """The Rasa servers RASA_URL names: one URL, or several separated by commas."""
    return [url.strip().rstrip("/") for url in setting.split(",") if url.strip()]


def connect_rasa(settings: HubSettings, timeout: float | None = None) -> RasaApi:
    """The hub's line to its Rasa server or servers; `timeout` replaces RASA_TIMEOUT_MS for API calls."""
    clients = [
        RasaClient(
            url, settings.rasa_token, timeout or settings.rasa_timeout, turn_deadline=settings.rasa_turn_deadline
        )
        for url in rasa_urls(settings.rasa_url)
    ]
    return clients[0] if len(clients) == 1 else RasaServers(clients)


class Homes:
    """Which server each active conversation goes to: the same one every turn, and a new conversation to the server
    with the fewest active ones. A stable hash alone would leave the servers' loads to chance: of 10 conversations
    over 2 servers it puts 6 or more on one three times in four, and that server then sets everyone's pace.

    Each hub keeps its own; a conversation another hub routes may start on another server, which costs that server
    one read of the tracker from SQL. On equal loads the hash decides, so hubs agree on a lone conversation."""

    def __init__(self, servers: int, active_seconds: float = ACTIVE_SECONDS) -> None:
        self._servers = servers
        self._active_seconds = active_seconds
        self._homes: OrderedDict[str, tuple[int, float]] = OrderedDict()
        """Conversation → (server, when last routed), the longest quiet first."""
        self._load = [0] * servers

    def home(self, sender_id: str, now: float) -> int:
        """The conversation's server, chosen now if it has none or has been quiet for `active_seconds`."""
        self._expire(now)
        kept = self._homes.pop(sender_id, None)
        server = kept[0] if kept is not None else self._least_loaded(sender_id)
        if kept is None:
            self._load[server] += 1
        self._homes[sender_id] = (server, now)
        return server

    def move(self, sender_id: str, server: int, now: float) -> None:
        """The conversation now goes to `server` (its own could not be reached)."""
        kept = self._homes.pop(sender_id, None)
        if kept is not None:
            self._load[kept[0]] -= 1
        self._load[server] += 1
        self._homes[sender_id] = (server, now)

    def loads(self) -> list[int]:
        """Active conversations per server."""
        return list(self._load)

    def _least_loaded(self, sender_id: str) -> int:
        first = zlib.crc32(sender_id.encode()) % self._servers
        return min(range(self._servers), key=lambda n: (self._load[n], (n - first) % self._servers))

    def _expire(self, now: float) -> None:
        while self._homes:
            sender_id, (server, seen) = next(iter(self._homes.items()))
            if now - seen < self._active_seconds:
                return
            del self._homes[sender_id]
            self._load[server] -= 1


class RasaServers:
    """`RasaApi` over several servers: each conversation on its own (`Homes`), the next when that one is
    unreachable."""

    def __init__(self, servers: Sequence[RasaApi], homes: Homes | None = None) -> None:
        if not servers:
            raise ValueError("at least one Rasa server")
        self.servers = list(servers)
        self.homes = homes or Homes(len(self.servers))
        self._down_until = [0.0] * len(self.servers)

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return await self._first_reachable(sender_id, lambda rasa: rasa.send(sender_id, text, metadata))

    async def turn(self, sender_id: str, hub_message_id: int) -> list[dict[str, Any]] | None:
        return await self._first_reachable(sender_id, lambda rasa: rasa.turn(sender_id, hub_message_id))

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        await self._first_reachable(sender_id, lambda rasa: rasa.append_events(sender_id, events))

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str:
        """The new model on every server (all of them, or the reload failed: a server left on the old model would
        answer some conversations differently); the loaded model's name."""
        results = await asyncio.gather(
            *(rasa.replace_model(model_file, timeout) for rasa in self.servers), return_exceptions=True
        )
        failed = [f"server {n + 1}: {r}" for n, r in enumerate(results) if isinstance(r, BaseException)]
        if failed:
            raise RasaUnavailable(f"the model did not load on every Rasa server ({'; '.join(failed)})"[:600])
        return str(results[0])

    async def model_file(self) -> str:
        return await self._first_reachable("", lambda rasa: rasa.model_file(), start=0)

    async def healthy(self) -> bool:
        return any(await asyncio.gather(*(rasa.healthy() for rasa in self.servers)))

    async def close(self) -> None:
        await asyncio.gather(*(rasa.close() for rasa in self.servers))

    async def _first_reachable(
        self, sender_id: str, call: Callable[[RasaApi], Awaitable[T]], start: int | None = None
    ) -> T:
        loop = asyncio.get_running_loop()
        first = self.homes.home(sender_id, loop.time()) if start is None else start
        ring = [(first + step) % len(self.servers) for step in range(len(self.servers))]
        ring.sort(key=lambda n: self._down_until[n] > loop.time())  # stable: the ring's order among the up ones
        failure: Exception | None = None
        for n in ring:
            try:
                result = await call(self.servers[n])
            except RasaUnreachable as exc:
                if self._down_until[n] <= loop.time():
                    logger.warning("rasa server %d of %d unreachable; trying the next", n + 1, len(self.servers))
                self._down_until[n] = loop.time() + DOWN_SECONDS
                failure = exc
                continue
            self._down_until[n] = 0.0
            if n != first and start is None:
                self.homes.move(sender_id, n, loop.time())
            return result
        assert failure is not None
        raise failure
