"""The real Redis of the test machine (127.0.0.1:6379, or TEST_REDIS_URL), with a key prefix of each test's own
(tests run in parallel), and a TCP proxy in front of it that a test can cut, to see what a hub does while Redis
is unreachable and after it comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from bot.core.coordination import redis_client

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def redis_clients(count: int = 1, url: str = REDIS_URL) -> AsyncIterator[tuple[str, list[Redis]]]:
    """A fresh prefix and `count` clients (one per simulated hub); the prefix's keys are deleted at the end."""
    prefix = unique_prefix()
    clients = [redis_client(url) for _ in range(count)]
    try:
        yield prefix, clients
    finally:
        keys = [key async for key in clients[0].scan_iter(match=f"{prefix}:*")]
        if keys:
            await clients[0].delete(*keys)
        for client in clients:
            await client.close(close_connection_pool=True)


class RedisProxy:
    """Forwards a loopback port to Redis; `cut` drops every connection and refuses new ones, `restore` lets them
    in again on the same port."""

    def __init__(self, upstream_port: int = 6379) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.close()
        self._pipes.clear()

    async def restore(self) -> None:
        await self.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._pipes |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        self._pipes -= {writer, up_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
