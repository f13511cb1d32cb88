"""The hub in the test's own event loop against a fake Rasa: the console, review and insight APIs and the customer
WebSocket checked in seconds, with no Rasa server, no action server and no trained model.

The app is the real one (`create_app`) on a real SQLite file, served on loopback by Sanic's own server
(`app.create_server(..., return_asyncio_server=True)` and the `AsyncioServer` lifecycle), and the tests talk to
it with real HTTP and WebSocket clients (tests/hub_clients.py). Only Rasa is replaced, by `FakeRasa`, which has
`RasaClient`'s async methods and is handed to `create_app(rasa=...)`.

Why not the usual helpers: sanic-testing cannot be installed (its last release for Sanic 21.12, 0.8.3, pins
httpx<0.24, and python-telegram-bot 22 needs httpx>=0.27); httpx's ASGITransport sends no ASGI lifespan events,
so the listeners that build `app.ctx` would never run, and it carries no WebSocket.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import dataclasses
import functools
import inspect
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, cast

import httpx
from argon2 import PasswordHasher
from sanic import Sanic
from sanic.server.async_server import AsyncioServer
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.api.app import create_app
from bot.core.hub import Hub
from bot.core.rasa_client import RasaClient, RasaTimeout, RasaUnavailable
from bot.core.settings import HubSettings
from bot.store import schema as t
from bot.store.agents import Agent
from bot.store.database import create_engine
from bot.store.schema import utcnow
from tests.hub_clients import AgentClient, CustomerClient
from tests.rasa_wire import RasaWire

Reply = dict[str, Any]
Responder = Callable[[str, str, dict[str, Any]], list[Reply] | Awaitable[list[Reply]]]

PASSWORD = "in-process password"
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
"""argon2 keeps its cost in the hash, so the real `AgentStore` checks this one in a millisecond; a hash of its own
costs ~0.7 s here, and a login ~0.2 s, which would be most of this tier's time."""
ACCOUNTS = {
    "sam": ("Sam (agent)", "agent"),
    "kim": ("Kim (agent)", "agent"),
    "alex": ("Alex (supervisor)", "supervisor"),
    "robin": ("Robin (trainer)", "trainer"),
}
"""username: (display name, role); every one has `PASSWORD`."""
RASA_TOKEN = "in-process-rasa-token"
NOT_LISTENING = "http://127.0.0.1:9"
"""Where the action server would be: the discard port, so `/healthz` says the actions are down at once."""


# ---------------------------------------------------------------------------------------------- the fake Rasa


def says(text: str, *buttons: tuple[str, str]) -> Reply:
    """A reply item as Rasa's REST channel sends it: text, and (title, payload) quick replies."""
    item: Reply = {"text": text}
    if buttons:
        item["buttons"] = [{"title": title, "payload": payload} for title, payload in buttons]
    return item


def hands_off(
    reason: str = "requested", priority: str = "normal", summary: str = "The customer asked for a person.", **more: Any
) -> Reply:
    """`action_handoff`'s custom reply item (docs/architecture.md, "Contracts"): the handoff packet."""
    packet = {"reason": reason, "priority": priority, "summary": summary, "signals": [], "intents": []} | more
    return {"custom": {"handoff": packet}}


def asks_rating() -> Reply:
    """The custom item with which the bot's goodbye asks the hub to put the rating question."""
    return {"custom": {"ask_rating": True}}


@dataclasses.dataclass(frozen=True)
class Sent:
    """One message the hub sent to Rasa."""

    sender_id: str
    text: str
    metadata: dict[str, Any]


class FakeRasa:
    """Stands in for `RasaClient` (the same async methods): answers from a script by text, or from `responder`;
    records what the hub sent; can be made slow (`delay`) or down (`down`: `send` raises `RasaUnavailable`), and
    a model reload can be held (`reload_gate`)."""

    def __init__(
        self,
        script: Mapping[str, list[Reply]] | None = None,
        *,
        responder: Responder | None = None,
        default: list[Reply] | None = None,
    ) -> None:
        self.script = dict(script or {})
        self.responder = responder
        self.default = default if default is not None else [says("I am the fake bot.")]
        self.delay = 0.0
        self.down = False
        self.sent: list[Sent] = []
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []
        self.model = "fake-model.tar.gz"
        self.reloads: list[str] = []
        self.reload_gate: asyncio.Event | None = None
        """When given, a reload waits for it: the test decides when the new model is in."""
        self.rasa_api: Callable[[httpx.Request], httpx.Response] | None = None
        """When given, a reload goes through the real `RasaClient` to this handler, which answers `PUT /model` and
        `GET /status` as Rasa's HTTP API would, or raises as a broken connection does."""
        self.closed = False
        self.overlapped = False
        """True once a message reached the fake while another of the same conversation was still being answered."""
        self._answering: set[str] = set()
        self.turns: dict[tuple[str, int], list[Reply]] = {}
        """What the fake answered, by conversation and hub message id: what `turn` reads back, as Rasa's tracker."""
        self.lose_answers = False
        """When set, `send` finishes the turn but the hub does not get the answer (`RasaTimeout`)."""

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[Reply]:
        self.sent.append(Sent(sender_id, text, dict(metadata or {})))
        self.overlapped |= sender_id in self._answering
        self._answering.add(sender_id)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.down:
                raise RasaUnavailable("the fake Rasa is down")
            if self.responder is not None:
                answer = self.responder(sender_id, text, dict(metadata or {}))
                items = await answer if inspect.isawaitable(answer) else answer
            else:
                items = self.script.get(text, self.default)
        finally:
            self._answering.discard(sender_id)
        answer = [{"recipient_id": sender_id, **copy.deepcopy(item)} for item in items]
        if isinstance((metadata or {}).get("hub_message_id"), int):
            self.turns[(sender_id, metadata["hub_message_id"])] = copy.deepcopy(items)
        if self.lose_answers:
            raise RasaTimeout("the fake Rasa's answer was lost")
        return answer

    async def turn(self, sender_id: str, hub_message_id: int) -> list[Reply] | None:
        if self.down:
            raise RasaUnavailable("the fake Rasa is down")
        found = self.turns.get((sender_id, hub_message_id))
        return copy.deepcopy(found) if found is not None else None

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        self.appended.append((sender_id, copy.deepcopy(events)))

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str:
        self.reloads.append(model_file)
        if self.reload_gate is not None:
            await self.reload_gate.wait()
        if self.rasa_api is not None:
            return await self._replace_over_http(model_file, timeout)
        self.model = Path(model_file).name
        return await self.model_file()

    async def _replace_over_http(self, model_file: str, timeout: float) -> str:
        """`RasaClient.replace_model` itself, over the wire to a server on loopback whose answers `rasa_api` gives."""
        assert self.rasa_api is not None
        wire = await RasaWire(self.rasa_api).listen()
        client = RasaClient(wire.url, RASA_TOKEN, 5.0)
        try:
            return await client.replace_model(model_file, timeout)
        finally:
            await client.close()
            await wire.refuse()

    async def model_file(self) -> str:
        return self.model

    async def healthy(self) -> bool:
        return not self.down

    async def close(self) -> None:
        self.closed = True

    def texts(self, sender_id: str | None = None) -> list[str]:
        """What the hub sent, in order (of one conversation, when given)."""
        return [s.text for s in self.sent if sender_id is None or s.sender_id == sender_id]


# ---------------------------------------------------------------------------------------------- the database


def prepare_database(path: Path) -> Engine:
    """A hub database with the schema and `ACCOUNTS`, as a hub that has been set up has it: a copy of one built
    once per process (building the schema takes longer than most tests), unless `path` exists already."""
    if not path.exists():
        shutil.copyfile(_template(), path)
    return create_engine(f"sqlite:///{path}")


@functools.lru_cache(maxsize=1)
def _template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="frontline-inprocess-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    engine = create_engine(f"sqlite:///{folder / 'template.db'}")
    t.create_schema(engine)
    with engine.begin() as conn:
        for username, (name, role) in ACCOUNTS.items():
            conn.execute(
                insert(t.agents).values(
                    username=username,
                    display_name=name,
                    password_hash=PASSWORD_HASH,
                    role=role,
                    capacity=3,
                    active=True,
                    created_at=utcnow(),
                )
            )
    engine.dispose()  # the last connection closed: the write-ahead log is folded into the file, which can be copied
    return folder / "template.db"


def accounts(engine: Engine) -> dict[str, Agent]:
    """`ACCOUNTS` as the store hands them out, by username."""
    with engine.connect() as conn:
        rows = conn.execute(select(t.agents)).all()
    return {r.username: Agent(r.id, r.username, r.display_name, r.role, r.capacity) for r in rows}


def hub_settings(database: Path, **env: str) -> HubSettings:
    """The settings of a hub on `database` that seeds no demo accounts; `env` as the environment would say it."""
    return HubSettings.from_env(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "SEED_DEMO_AGENT": "false",
            "RASA_TOKEN": RASA_TOKEN,
            "ACTIONS_URL": NOT_LISTENING,
            **env,
        }
    )


# ---------------------------------------------------------------------------------------------- the running hub


@dataclasses.dataclass
class InProcessHub:
    """A running hub: its app, its fake Rasa, where it listens, its database; it makes the clients a test uses and
    closes them when it stops."""

    app: Sanic
    rasa: FakeRasa
    url: str
    database: Path
    engine: Engine
    _clients: list[CustomerClient | AgentClient] = dataclasses.field(default_factory=list)

    @property
    def hub(self) -> Hub:
        return cast(Hub, self.app.ctx.hub)

    @property
    def agents(self) -> dict[str, Agent]:
        return accounts(self.engine)

    def customer(self) -> CustomerClient:
        """A web widget's client; closed when the hub stops, if the test has not."""
        client = CustomerClient(self.url)
        self._clients.append(client)
        return client

    async def connected_customer(self, **hello: Any) -> CustomerClient:
        customer = self.customer()
        await customer.connect(**hello)
        return customer

    async def agent(self, username: str | None = None) -> AgentClient:
        """A console's client, logged in as `username` through `POST /api/login` (anonymous without one)."""
        client = AgentClient(self.url)
        self._clients.append(client)
        if username is not None:
            response = await client.login(username, PASSWORD)
            assert response.status_code == 200, response.text
        return client

    async def settled(self, *customers: CustomerClient) -> None:
        """Wait until every message is routed and everything published so far has reached the customers'
        sockets (a ping answered after it), so a test can say what did *not* arrive."""
        await self.hub.drain()
        for customer in customers:
            seen = len(customer.events)
            await customer.send_frame({"type": "ping"})
            await customer.wait_for(lambda e: e["type"] == "pong", after=seen, timeout=5)

    async def _close_clients(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()


@contextlib.asynccontextmanager
async def running_hub(database: Path, rasa: FakeRasa | None = None, **env: str) -> AsyncIterator[InProcessHub]:
    """The hub on `database` (prepared if new), served on a free loopback port in the running event loop.

    Sanic keeps a registry of apps by name and rewrites some of its own methods on every start ("touch-up");
    `Sanic.test_mode` lets a second app start in one process (the rewrite starts from the original methods, a
    name may be taken again). It stays on: once a start has rewritten the methods, only test mode undoes it.
    The socket is bound here and handed over (`sock=`): `create_server` reads port 0 as "the default, 8000", and
    a port chosen first could be taken by another process before the server binds it. In Sanic 21.12
    `create_server` returns the server already listening; the lifecycle calls then run the listeners. The socket
    names its protocol (IPPROTO_TCP) as the hub's own server socket does: asyncio turns Nagle's algorithm off only
    for such sockets, and with it on, a frame written right after another waits ~40 ms for the client's delayed ACK.
    """
    Sanic.test_mode = True
    engine = prepare_database(database)
    rasa = rasa or FakeRasa()
    app = create_app(hub_settings(database, **env), name=f"inprocess_{uuid.uuid4().hex}", rasa=cast(RasaClient, rasa))
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = await app.create_server(sock=listening, return_asyncio_server=True, access_log=False)
    assert server is not None
    running = InProcessHub(app, rasa, f"http://127.0.0.1:{port}", database, engine)
    try:
        await server.startup()
        await server.before_start()
        await server.after_start()
        yield running
    finally:
        await running._close_clients()
        await _stop(app, server)
        Sanic._app_registry.pop(app.name, None)
        engine.dispose()


async def _stop(app: Sanic, server: AsyncioServer) -> None:
    """What `sanic.server.runners.serve` does on shutdown, in the running loop: listeners, then connections."""
    if app.state.is_started:
        await server.before_stop()
    server.close()
    await server.wait_closed()
    for connection in list(server.connections):
        websocket = getattr(connection, "websocket", None)
        if websocket is not None:
            websocket.fail_connection(code=1001)
        else:
            connection.close_if_idle()
    if app.websocket_tasks:
        await asyncio.wait(list(app.websocket_tasks), timeout=5)
    for connection in list(server.connections):
        connection.abort()
    if app.state.is_started and hasattr(app.ctx, "hub"):
        await server.after_stop()
