"""What the hub has yet to send on one WebSocket: at most `OUTBOX_LIMIT` frames, written by one writer task.

A client that stops reading (or reads slower than events come) makes the hub's sends wait; its frames would pile
up without end. Past the limit the hub closes the socket with `SLOW_CONSUMER` and lets the frames go: the widget
and the console reconnect and fetch what they missed (the widget's `last_id`, the console's reload on open).
What a socket may hold below the outbox is capped too (`SEND_BUFFER_BYTES`): left alone, the kernel grows a
connection's send buffer to megabytes, and would swallow tens of thousands of frames before the hub noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable
from typing import Any

from sanic.server.websockets.impl import WebsocketImplProtocol as Websocket

logger = logging.getLogger(__name__)

OUTBOX_LIMIT = 500
SLOW_CONSUMER = 4408
"""Close code: the client did not read its frames fast enough; reconnecting (and catching up) is the answer."""
SEND_BUFFER_BYTES = 16 * 1024
"""The most the event loop's write buffer holds for one socket, and the kernel send buffer asked for (Linux
doubles it): enough for a chat, whose frames are small, and a few hundred kilobytes at most with the outbox."""
FLUSH_SECONDS = 5.0
"""How long a socket that is being closed normally may take to write what is queued for it."""


class SocketOutbox:
    """Frames for one socket; `put` never waits, the writer task sends them in order."""

    def __init__(self, ws: Websocket, limit: int = OUTBOX_LIMIT) -> None:
        self._ws = ws
        self._limit = limit
        self._frames: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def start(self) -> None:
        self._cap_buffers()
        self._writer = asyncio.create_task(self._write())

    def put(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        if self._frames.qsize() >= self._limit:
            logger.warning("socket closed: %d frames unread by a slow client", self._frames.qsize())
            self.close(SLOW_CONSUMER, "slow consumer, reconnect")
            return
        self._frames.put_nowait(frame)

    def close(self, code: int, reason: str) -> None:
        """Close the socket now with `code`, dropping what is queued. It does not wait for the client: a send
        stuck on a client that does not read cannot hold it up."""
        if self.closed:
            return
        self._closed.set()
        while not self._frames.empty():
            self._frames.get_nowait()
        if self._writer is not None:
            self._writer.cancel()
        self._ws.fail_connection(code, reason)

    async def until_closed(self, work: Awaitable[None]) -> None:
        """Run `work` (reading the client's frames) until it ends or `close` closes the socket; its errors
        propagate."""
        reading = asyncio.ensure_future(work)
        closing = asyncio.create_task(self._closed.wait())
        try:
            await asyncio.wait({reading, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not reading.done():
                reading.cancel()
                await asyncio.wait({reading})
        if not reading.cancelled():
            reading.result()

    async def finish(self) -> None:
        """Send what is queued (for at most FLUSH_SECONDS), then stop the writer."""
        if self._writer is None:
            return
        if not self.closed:
            self._frames.put_nowait(None)
        done, _ = await asyncio.wait({self._writer}, timeout=FLUSH_SECONDS)
        if not done:
            self._writer.cancel()
        elif not self._writer.cancelled():
            self._writer.exception()  # a client gone in the middle of a send: nothing to report

    def _cap_buffers(self) -> None:
        transport = getattr(self._ws.io_proto, "transport", None)
        if transport is None:
            return
        transport.set_write_buffer_limits(high=SEND_BUFFER_BYTES)
        connection = transport.get_extra_info("socket")
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    async def _write(self) -> None:
        while True:
            frame = await self._frames.get()
            if frame is None:
                return
            await self._ws.send(json.dumps(frame))
