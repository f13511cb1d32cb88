"""A real HTTP server on a loopback port that plays Rasa's HTTP side for the hub's `RasaClient`.

Each request reaches `answer` as an `httpx.Request` (its method, URL, headers and body), and `answer`'s
`httpx.Response` goes back on the wire. `answer` raising `httpx.TransportError` drops the connection without a
word, as a Rasa that died mid-request does; `refuse()` stops listening and closes the open connections, so the next
connection is refused, as a stopped Rasa's is, until `listen()`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import httpx
from aiohttp import web

Answer = Callable[[httpx.Request], httpx.Response]


class RasaWire:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._web = web.Server(self._handle, access_log=None)
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def listen(self) -> RasaWire:
        if self._server is None:
            if self._socket.fileno() == -1:
                self._socket = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
            self._server = await asyncio.get_running_loop().create_server(self._web, sock=self._socket)
        return self

    async def refuse(self) -> None:
        """Connections are refused from now on, and the open ones closed."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for connection in list(self._web.connections):
            connection.force_close()
        self._socket.close()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        asked = httpx.Request(
            request.method, f"{self.url}{request.path_qs}", headers=dict(request.headers), content=await request.read()
        )
        try:
            answered = self.answer(asked)
        except httpx.TransportError:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        content_type = answered.headers.get("content-type", "application/json")
        return web.Response(status=answered.status_code, body=answered.content, headers={"Content-Type": content_type})
