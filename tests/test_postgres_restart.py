"""PostgreSQL restarted (or killed) while ten web customers keep talking: the hub reconnects and loses nothing.

The hub runs for real (`python -m bot`, real Rasa and action server; Rasa keeps its tracker in the stack's SQLite
file) with its database on a PostgreSQL server of this test's own. The customers do what the widget does: every
message carries a client id, a message not acknowledged is sent again after reconnecting, with the same token and
last id. After the fault every message sent must be stored exactly once, every acknowledged one under the id its
ack gave, and every stored one must reach the bot (answered, or handed over to people).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy
import websockets
from sqlalchemy import func, select

from bot.domain.vocabulary import ROUTING_DONE
from bot.store import schema as t
from tests.private_postgres import PrivatePostgres
from tests.rasa_stack import RasaStack

pytestmark = pytest.mark.stack

CUSTOMERS = 10
SEND_EVERY = 0.5
BEFORE_FAULT = 4.0
AFTER_FAULT = 4.0
"""Traffic goes on this long after the server is back."""
RECONNECT_AFTER = 0.5
SETTLE_TIMEOUT = 240.0
ROUTINE = ("hi", "what are your delivery options", "where is my order 10002", "hello there")
DONE = tuple(state.value for state in ROUTING_DONE)
Event = dict[str, Any]


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as server:
        yield server


@pytest.fixture
def pg_hub(assistant: RasaStack, private_postgres: PrivatePostgres) -> Iterator[tuple[RasaStack, str]]:
    """The hub in front of the real Rasa stack, its database a fresh one on the private server."""
    url = private_postgres.create_database(f"hub_{uuid.uuid4().hex[:8]}")
    assistant.start_hub(env={"DATABASE_URL": url, "ROUTING_SWEEP_MS": "500"})
    try:
        yield assistant, url
    finally:
        assistant.stop_hub()


@dataclasses.dataclass
class Outage:
    began: float = 0.0
    ended: float = 0.0


class ResendingCustomer:
    """A widget: hello with its token and last id, messages with client ids, and on any drop a reconnect that
    sends again every message not yet acknowledged. An error frame naming a message means the hub refused it for
    good (the widget then stops sending it)."""

    def __init__(self, hub_url: str, number: int) -> None:
        self._url = hub_url.replace("http://", "ws://") + "/ws/customer"
        self._texts = itertools.cycle(ROUTINE[number % len(ROUTINE) :] + ROUTINE[: number % len(ROUTINE)])
        self.token: str | None = None
        self.conversation_id: str | None = None
        self.last_id = 0
        self.outbox: dict[str, str] = {}
        """Client id → text of messages sent and not yet acknowledged, oldest first."""
        self.sent: list[str] = []
        self.acked: dict[str, int] = {}
        self.refused: list[str] = []
        self.errors: list[tuple[float, Event]] = []
        self.connections = 0
        self.resent = 0

    async def run(self, sending: asyncio.Event, until: float) -> None:
        loop = asyncio.get_running_loop()
        while (sending.is_set() or self.outbox) and loop.time() < until:
            with contextlib.suppress(OSError, asyncio.TimeoutError, websockets.WebSocketException):
                await self._session(sending)
            if sending.is_set() or self.outbox:
                await asyncio.sleep(RECONNECT_AFTER)

    async def _session(self, sending: asyncio.Event) -> None:
        async with websockets.connect(self._url, open_timeout=5, close_timeout=2) as ws:
            await ws.send(json.dumps({"type": "hello", "token": self.token, "last_id": self.last_id}))
            while (frame := json.loads(await ws.recv()))["type"] != "welcome":
                self._take(frame)
            self._take(frame)
            self.connections += 1
            reader = asyncio.create_task(self._read(ws))
            try:
                for client_id, text in list(self.outbox.items()):
                    self.resent += 1
                    await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
                while sending.is_set() or self.outbox:
                    if sending.is_set():
                        await self._say(ws, next(self._texts))
                    await asyncio.wait({reader}, timeout=SEND_EVERY)
                    if reader.done():
                        return
            finally:
                reader.cancel()

    async def _say(self, ws: Any, text: str) -> None:
        client_id = uuid.uuid4().hex
        self.outbox[client_id] = text
        self.sent.append(client_id)
        await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                self._take(json.loads(raw))

    def _take(self, frame: Event) -> None:
        kind = frame.get("type")
        if kind == "welcome":
            self.token = frame["token"]
            self.conversation_id = frame["conversation_id"]
            for message in frame["history"]:
                self.last_id = max(self.last_id, message["id"])
        elif kind == "message":
            self.last_id = max(self.last_id, frame["message"]["id"])
        elif kind == "ack":
            self.outbox.pop(frame["client_id"], None)
            self.acked[frame["client_id"]] = frame["id"]
        elif kind == "error":
            self.errors.append((time.monotonic(), frame))
            if frame.get("client_id") in self.outbox:
                self.outbox.pop(frame["client_id"])
                self.refused.append(frame["client_id"])


async def talk_through(
    hub_url: str, fault: str, server: PrivatePostgres, customers: list[ResendingCustomer]
) -> tuple[Outage, list[tuple[float, bool]]]:
    """Traffic, the fault in the middle of it, traffic after; then every customer waits for its last acks.

    Also asks /healthz every half second once the server is back: (seconds after it was back, database ok)."""
    loop = asyncio.get_running_loop()
    sending = asyncio.Event()
    sending.set()
    until = loop.time() + BEFORE_FAULT + AFTER_FAULT + 120
    talking = [asyncio.create_task(customer.run(sending, until)) for customer in customers]
    outage = Outage()
    health: list[tuple[float, bool]] = []
    async with httpx.AsyncClient(base_url=hub_url, timeout=10) as http:
        await asyncio.sleep(BEFORE_FAULT)
        outage.began = time.monotonic()
        await asyncio.to_thread(cut, server, fault)
        outage.ended = time.monotonic()
        while (asked := time.monotonic()) < outage.ended + AFTER_FAULT:
            checks = (await http.get("/healthz")).json()["checks"]
            health.append((asked - outage.ended, checks["database"]))
            await asyncio.sleep(0.5)
    sending.clear()
    await asyncio.gather(*talking)
    return outage, health


def cut(server: PrivatePostgres, fault: str) -> None:
    if fault == "restart":
        server.restart("fast")
    else:
        server.kill()
        time.sleep(1.0)
        server.start()


def wait_for_routing(url: str, timeout: float = SETTLE_TIMEOUT) -> dict[str, int]:
    """Routing rows by state, once none is left unfinished (or the timeout passes)."""
    engine = sqlalchemy.create_engine(url, future=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as conn:
                states = dict(conn.execute(select(t.routing.c.state, func.count()).group_by(t.routing.c.state)).all())
            if set(states) <= set(DONE) or time.monotonic() > deadline:
                return states
            time.sleep(1.0)
    finally:
        engine.dispose()


def stored_customer_messages(url: str) -> list[tuple[str | None, int, str | None]]:
    """Every customer message: client id, message id, routing state (None: no routing row)."""
    engine = sqlalchemy.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(t.messages.c.client_message_id, t.messages.c.id, t.routing.c.state)
                .select_from(t.messages.outerjoin(t.routing, t.routing.c.message_id == t.messages.c.id))
                .where(t.messages.c.sender == "customer")
            ).all()
        return [(client_id, message_id, state) for client_id, message_id, state in rows]
    finally:
        engine.dispose()


@pytest.mark.parametrize("fault", ["restart", "kill"])
def test_customers_lose_no_message_when_postgres_restarts_under_traffic(
    pg_hub: tuple[RasaStack, str], private_postgres: PrivatePostgres, fault: str
) -> None:
    stack, url = pg_hub
    customers = [ResendingCustomer(stack.hub_url, number) for number in range(CUSTOMERS)]
    outage, health = asyncio.run(talk_through(stack.hub_url, fault, private_postgres, customers))
    quiet = time.monotonic()
    settled_states = wait_for_routing(url)
    settled_in = time.monotonic() - quiet
    stored = stored_customer_messages(url)

    sent = {client_id for customer in customers for client_id in customer.sent}
    acked = {client_id: message_id for customer in customers for client_id, message_id in customer.acked.items()}
    stored_ids: dict[str, list[int]] = {}
    for client_id, message_id, _state in stored:
        stored_ids.setdefault(client_id or "", []).append(message_id)
    duplicates = sorted(client_id for client_id, ids in stored_ids.items() if len(ids) > 1)
    acked_not_stored = sorted(c for c, message_id in acked.items() if message_id not in stored_ids.get(c, []))
    never_stored = sorted(sent - set(stored_ids))
    not_routed = sorted(c or "" for c, _m, state in stored if state not in DONE)
    answered = sum(1 for _c, _m, state in stored if state in DONE)
    errors = [(at, frame) for customer in customers for at, frame in customer.errors]
    errors_outside = [frame for at, frame in errors if not outage.began - 1 <= at <= outage.ended + 5]
    refused = [client_id for customer in customers for client_id in customer.refused]
    first_ok = next((round(after, 2) for after, ok in health if ok), None)

    print(
        f"\n[postgres {fault}] customers={CUSTOMERS} sent={len(sent)} acknowledged={len(acked)} "
        f"stored={len(stored)} answered={answered} lost={len(acked_not_stored) + len(never_stored) + len(not_routed)} "
        f"(acked-not-stored={len(acked_not_stored)} never-stored={len(never_stored)} not-routed={len(not_routed)}) "
        f"duplicates={len(duplicates)} error_frames={len(errors)} "
        f"error_codes={sorted({frame.get('code', '?') for _at, frame in errors})} refused={len(refused)} "
        f"resent={sum(c.resent for c in customers)} reconnects={sum(c.connections - 1 for c in customers)} "
        f"outage={outage.ended - outage.began:.1f}s healthz_db_ok_after={first_ok}s routing={settled_states} "
        f"settled_in={settled_in:.0f}s"
    )
    assert sent, "no traffic"
    assert not never_stored, f"{len(never_stored)} messages sent were never stored; hub log:\n{stack.log_tail('hub')}"
    assert not acked_not_stored, f"acknowledged but not stored: {acked_not_stored}"
    assert not duplicates, f"stored twice: {duplicates}"
    assert not refused, f"the hub refused messages for good: {refused}"
    assert len(acked) == len(sent), "every message is acknowledged in the end"
    assert not not_routed, f"{len(not_routed)} stored messages never reached the bot: {settled_states}"
    assert not errors_outside, f"error frames outside the outage: {errors_outside}"
    assert health and health[-1][1], f"/healthz database check after the restart: {health}"
