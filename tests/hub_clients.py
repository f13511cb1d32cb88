"""A customer's widget and an agent's console, as real WebSocket and HTTP clients of a running hub."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import websockets

Event = dict[str, Any]


class CustomerClient:
    """What the web widget does: hello, messages with client ids, and every event the hub pushes."""

    def __init__(self, hub_url: str) -> None:
        self._url = hub_url.replace("http://", "ws://") + "/ws/customer"
        self.ws: Any = None
        self.events: list[Event] = []
        self.welcome: Event = {}
        self._new = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, token: str | None = None, last_id: int = 0, **hello: Any) -> Event:
        self.ws = await websockets.connect(self._url, max_size=2**22)
        self._reader = asyncio.create_task(self._read())
        await self.send_frame({"type": "hello", "token": token, "last_id": last_id, **hello})
        self.welcome = await self.wait_for(lambda e: e["type"] == "welcome")
        return self.welcome

    @property
    def token(self) -> str:
        return self.welcome["token"]

    @property
    def conversation_id(self) -> str:
        return self.welcome["conversation_id"]

    async def send_frame(self, frame: Event | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str, client_id: str | None = None) -> Event:
        """Send a message and wait for its acknowledgement."""
        client_id = client_id or uuid.uuid4().hex
        seen = len(self.events)
        await self.send_frame({"type": "message", "client_id": client_id, "text": text})
        return await self.wait_for(
            lambda e: e.get("client_id") == client_id and e["type"] in {"ack", "error"}, after=seen
        )

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0, after: int = 0) -> Event:
        """The first event (from index `after`) matching `predicate`, waiting for it if need be."""
        deadline = asyncio.get_running_loop().time() + timeout
        index = after
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if predicate(event):
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no matching event in {timeout}s; saw {[e['type'] for e in self.events][-20:]}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), remaining)
            except asyncio.TimeoutError:
                continue

    def messages(self, sender: str | None = None) -> list[Event]:
        found = [e["message"] for e in self.events if e["type"] == "message"]
        found += [m for e in self.events if e["type"] == "welcome" for m in e["history"]]
        unique = {m["id"]: m for m in found}
        return [m for _, m in sorted(unique.items()) if sender is None or m["sender"] == sender]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.events.append(json.loads(raw))
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._new.set()


class AgentClient:
    """What the console does over HTTP (cookie session) and, when asked, its live socket."""

    def __init__(self, hub_url: str) -> None:
        self.hub_url = hub_url
        self.http = httpx.AsyncClient(base_url=hub_url, timeout=20.0)
        self.agent: Event = {}
        self.ws: Any = None
        self.events: list[Event] = []

    async def login(self, username: str = "demo.agent", password: str = "frontline-demo") -> httpx.Response:
        response = await self.post("/api/login", {"username": username, "password": password})
        if response.status_code == 200:
            self.agent = response.json()["agent"]
        return response

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body if body is not None else {})

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)

    async def go_online(self) -> None:
        """Open the console's socket, as an agent with the console open is online."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        url = self.hub_url.replace("http://", "ws://") + "/ws/agent"
        self.ws = await websockets.connect(url, extra_headers={"Cookie": cookie})
        hello = json.loads(await self.ws.recv())
        assert hello["type"] == "hello", hello

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.aclose()


async def reload_model(http: httpx.AsyncClient, model_file: str, timeout: float = 600.0) -> dict[str, Any]:
    """Start a model reload through the hub (`http` carries a trainer's session or the Rasa token) and wait
    for it to finish; the final status."""
    started = await http.post("/api/model/reload", json={"model_file": model_file})
    assert started.status_code == 202, started.text
    deadline = asyncio.get_running_loop().time() + timeout
    status = started.json()["reload"]
    while status["state"] == "loading" and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        status = (await http.get("/api/model/reload")).json()["reload"]
    return status
