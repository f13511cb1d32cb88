"""Several Rasa servers behind one hub: RASA_URL may list them, comma-separated.

They share the tracker store and the lock store, so any of them can answer any conversation; the hub still sends
each conversation to one of them, chosen by a stable hash of its id, so that whatever Rasa keeps of a
conversation between turns stays warm on one server. When that server cannot be reached (no connection: it never
saw the request), the next one in the ring takes the call, and the unreachable one is tried last for a few
seconds. A new model goes to every server; the hub is healthy when any server is.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bot.core.rasa_client import UNREACHABLE, RasaApi, RasaClient, RasaUnavailable, RasaUnreachable
from bot.core.settings import HubSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")

DOWN_SECONDS = 5.0
"""How long a server that could not be reached is tried after the others."""


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


class RasaServers:
    """`RasaApi` over several servers: one per conversation by a stable hash, the next when it is unreachable."""

    def __init__(self, servers: Sequence[RasaApi]) -> None:
        if not servers:
            raise ValueError("at least one Rasa server")
        self.servers = list(servers)
        self._down_until = [0.0] * len(self.servers)

    def preferred(self, sender_id: str) -> int:
        """The server a conversation goes to while it is reachable: the same one on every hub, every run."""
        return zlib.crc32(sender_id.encode()) % len(self.servers)

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
        first = self.preferred(sender_id) if start is None else start
        ring = [(first + step) % len(self.servers) for step in range(len(self.servers))]
        ring.sort(key=lambda n: self._down_until[n] > loop.time())  # stable: the ring's order among the up ones
        failure: Exception | None = None
        for n in ring:
            try:
                result = await call(self.servers[n])
            except (RasaUnreachable, *UNREACHABLE) as exc:
                if self._down_until[n] <= loop.time():
                    logger.warning("rasa server %d of %d unreachable; trying the next", n + 1, len(self.servers))
                self._down_until[n] = loop.time() + DOWN_SECONDS
                failure = exc
                continue
            self._down_until[n] = 0.0
            return result
        assert failure is not None
        raise failure
