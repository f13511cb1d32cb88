"""One simulated web customer of the soak (benchmarks/soak.py): the widget's protocol, driven by a small script.

A real WebSocket and what bot/static/widget.js does (README, "Customer WebSocket"): hello with the token and the
last message id seen, messages with client ids, an outbox of what is not acknowledged yet that is sent again, with
the same client ids, after every reconnect (unless the message came back in the welcome's history). The customer
waits for the answer, thinks 1-5 s, and writes again; some ask for a person once, some lose their connection
right after sending. Everything that goes wrong is counted in the customer's `Tally`, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import websockets

ROUTINE = (
    "where is my order 00123842?",
    "track my package",
    "has my order shipped yet",
    "what are your delivery options",
    "do you ship to Canada",
    "how long does delivery take",
    "when will it arrive",
    "what payment methods do you accept",
    "can I pay with PayPal",
    "what is your refund policy",
    "when is customer service open",
    "can you show me receipt #9931",
    "send me a copy of invoice #48213",
    "hi",
    "thanks",
)
"""Routine questions, phrased as in data/nlu (our own training data). Asking for customer service's opening hours
hands over to a person (the `contact_customer_service` rule), so about one routine turn in fifteen does."""
PERSON_TEXTS = ("let me talk to someone", "I want to make a complaint", "real person")
WHILE_WAITING = "are you still there?"
PEOPLE = ("queued", "agent")
PERSON_SHARE = 0.25
"""Customers who ask for a person once, at a random turn between the 2nd and the 10th."""
DROP_SHARE = 0.06
"""Messages after which the connection drops at once, before the acknowledgement can arrive."""
THINK_SECONDS = (1.0, 5.0)
RECONNECT_SECONDS = (0.2, 2.0)
ACK_TIMEOUT = 30.0
REPLY_TIMEOUT = 120.0
PEOPLE_TIMEOUT = 240.0
"""How long a customer waits in the queue and with an agent before carrying on regardless."""
RATING_SHARE = 0.6


@dataclasses.dataclass
class Tally:
    sent: set[str] = dataclasses.field(default_factory=set)
    """Client ids of every message and "talk to a person" frame sent."""
    acked: dict[str, int | None] = dataclasses.field(default_factory=dict)
    """Client id → the stored message's id from the first ack (None: nothing to store, already with people)."""
    refused: set[str] = dataclasses.field(default_factory=set)
    errors: list[str] = dataclasses.field(default_factory=list)
    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    reply_timeouts: int = 0
    reconnects: int = 0
    drops: int = 0
    resent: int = 0
    person_requests: int = 0
    queued: int = 0
    agent_messages: int = 0
    ratings: int = 0


class SoakCustomer:
    def __init__(self, hub_url: str, rng: random.Random) -> None:
        self._url = hub_url.replace("http://", "ws://") + "/ws/customer"
        self._rng = rng
        self.tally = Tally()
        self.token: str | None = None
        self.last_id = 0
        self.state = "bot"
        self._outbox: dict[str, dict[str, Any]] = {}
        self._arrived: dict[int, tuple[str, float]] = {}
        """Message id → (sender, when it first reached this customer)."""
        self._stored: dict[str, int] = {}
        """Client id → message id, for this customer's messages seen in events or the welcome's history."""
        self._ratings: list[tuple[int, str]] = []
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._leaving = False
        self._dropping = False
        self._welcomes = 0
        self._changed = asyncio.Event()
        self._person_turn = rng.randint(2, 10) if rng.random() < PERSON_SHARE else None

    async def run(self, until: float, flush_timeout: float = 60.0) -> None:
        """Talk until the loop's clock reaches `until`, then wait for the last acknowledgements and leave."""
        loop = asyncio.get_running_loop()
        turn = 0
        try:
            while loop.time() < until:
                if not await self._ensure_connected():
                    await asyncio.sleep(1.0)
                    continue
                if self.state in PEOPLE:
                    await self._with_people(until)
                else:
                    await self._turn(turn)
                    turn += 1
                await self._answer_ratings()
                await asyncio.sleep(min(self._rng.uniform(*THINK_SECONDS), max(0.0, until - loop.time())))
            if self._outbox and not await self._wait(lambda: not self._outbox, flush_timeout):
                self.tally.errors.append("outbox not flushed at the end")
        except Exception as exc:  # a finding to report, not a reason to stop the other customers
            self.tally.errors.append(f"exception {type(exc).__name__}: {exc}")
        finally:
            await self._leave()

    async def _turn(self, turn: int) -> None:
        client_id = uuid.uuid4().hex
        frame: dict[str, Any]
        if turn == self._person_turn:
            self.tally.person_requests += 1
            if self._rng.random() < 0.5:
                frame = {"type": "human", "client_id": client_id}
            else:
                frame = {"type": "message", "client_id": client_id, "text": self._rng.choice(PERSON_TEXTS)}
        else:
            frame = {"type": "message", "client_id": client_id, "text": self._rng.choice(ROUTINE)}
        sent_at = asyncio.get_running_loop().time()
        await self._submit(frame)
        if self._rng.random() < DROP_SHARE:
            await self._drop()
        if not await self._wait_ack(client_id):
            return
        message_id = self.tally.acked.get(client_id)
        if message_id is None:
            return
        await self._wait(lambda: self._first_bot_after(message_id) is not None or self.state in PEOPLE, REPLY_TIMEOUT)
        answered_at = self._first_bot_after(message_id)
        if answered_at is not None:
            self.tally.latencies_ms.append((answered_at - sent_at) * 1000)
        elif self.state not in PEOPLE:
            self.tally.reply_timeouts += 1

    async def _with_people(self, until: float) -> None:
        """Queued or with an agent: maybe one more message, then wait for the agent to resolve it."""
        if self._rng.random() < 0.3:
            client_id = uuid.uuid4().hex
            await self._submit({"type": "message", "client_id": client_id, "text": WHILE_WAITING})
            await self._wait_ack(client_id)
        loop = asyncio.get_running_loop()
        await self._wait(lambda: self.state not in PEOPLE or loop.time() >= until, PEOPLE_TIMEOUT)

    async def _answer_ratings(self) -> None:
        while self._ratings:
            message_id, question = self._ratings.pop()
            if self._rng.random() < RATING_SHARE and self._connected():
                score = self._rng.randint(3, 5) if question == "csat" else self._rng.randint(6, 10)
                frame = {"type": "rating", "message_id": message_id, "question": question, "score": score}
                await self._send(frame)
                self.tally.ratings += 1

    async def _submit(self, frame: dict[str, Any]) -> None:
        self._outbox[frame["client_id"]] = frame
        self.tally.sent.add(frame["client_id"])
        await self._send(frame)

    async def _wait_ack(self, client_id: str) -> bool:
        if await self._wait(lambda: client_id not in self._outbox, ACK_TIMEOUT):
            return client_id in self.tally.acked
        self.tally.errors.append("no ack within 30 s")
        await self._drop()  # as a customer reloading the page: the reconnect sends it again
        return await self._wait(lambda: client_id not in self._outbox, ACK_TIMEOUT) and client_id in self.tally.acked

    def _first_bot_after(self, message_id: int) -> float | None:
        times = [at for mid, (sender, at) in self._arrived.items() if mid > message_id and sender == "bot"]
        return min(times) if times else None

    async def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()`, reconnecting whenever the socket is gone; False after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            self._changed.clear()
            if done():
                return True
            if loop.time() >= end:
                return False
            if not self._connected():
                await asyncio.sleep(self._rng.uniform(*RECONNECT_SECONDS))
                await self._ensure_connected()
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(1.0, max(0.01, end - loop.time())))

    def _connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def _ensure_connected(self) -> bool:
        """Open a socket, say hello with the token and last id, and send the outbox again."""
        if self._connected():
            return True
        try:
            ws = await websockets.connect(self._url, open_timeout=30, close_timeout=2, max_size=2**22)
        except websockets.InvalidStatusCode as exc:
            self.tally.errors.append(f"handshake answered {exc.status_code}")
            return False
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
            self.tally.errors.append(f"connect failed: {type(exc).__name__}")
            return False
        if self.token is not None:
            self.tally.reconnects += 1
        self._ws, self._dropping = ws, False
        self._reader = asyncio.create_task(self._read(ws))
        welcomed = self._welcomes + 1
        await self._send({"type": "hello", "token": self.token, "last_id": self.last_id})
        if not await self._wait_welcome(welcomed):
            return False
        for client_id, frame in list(self._outbox.items()):
            if client_id in self._stored:  # came back in the history: stored before the drop
                self._outbox.pop(client_id)
                self.tally.acked.setdefault(client_id, self._stored[client_id])
                continue
            self.tally.resent += 1
            await self._send(frame)
        return True

    async def _wait_welcome(self, count: int) -> bool:
        loop = asyncio.get_running_loop()
        end = loop.time() + ACK_TIMEOUT
        while self._welcomes < count:
            if not self._connected():
                return False
            if loop.time() >= end:
                self.tally.errors.append("no welcome within 30 s")
                await self._drop()
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)
        return True

    async def _send(self, frame: dict[str, Any]) -> None:
        """Send if connected; a frame lost with the connection is in the outbox and goes again on reconnect."""
        if self._ws is None:
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._ws.send(json.dumps(frame))

    async def _drop(self) -> None:
        """The network goes away: no closing handshake, as when a phone changes cells."""
        if self._connected():
            self.tally.drops += 1
            self._dropping = True
            self._ws.transport.abort()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({self._reader}, timeout=5)

    async def _leave(self) -> None:
        self._leaving = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                self._take(json.loads(raw))
                self._changed.set()
        except websockets.ConnectionClosedError as exc:
            if not (self._leaving or self._dropping):
                self.tally.errors.append(f"connection lost: {exc.rcvd.code if exc.rcvd else 1006}")
        finally:
            self._changed.set()

    def _take(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        now = asyncio.get_running_loop().time()
        if kind == "welcome":
            self.token = frame["token"]
            self.state = frame["state"]
            for message in frame["history"]:
                self._saw(message, now)
            self._welcomes += 1
        elif kind == "message":
            self._saw(frame["message"], now)
        elif kind == "ack":
            client_id = frame["client_id"]
            self._outbox.pop(client_id, None)
            first = self.tally.acked.setdefault(client_id, frame["id"])
            if first != frame["id"]:
                self.tally.errors.append("acknowledged again under another id")
        elif kind == "state":
            if frame["state"] == "queued" and self.state != "queued":
                self.tally.queued += 1
            self.state = frame["state"]
        elif kind == "error":
            self.tally.errors.append(f"error frame {frame.get('code')}")
            client_id = frame.get("client_id")
            if client_id in self._outbox:
                self._outbox.pop(client_id)
                self.tally.refused.add(client_id)

    def _saw(self, message: dict[str, Any], now: float) -> None:
        message_id, sender = message["id"], message["sender"]
        self.last_id = max(self.last_id, message_id)
        if message_id in self._arrived:
            return
        self._arrived[message_id] = (sender, now)
        if sender == "customer" and message.get("client_id"):
            self._stored[message["client_id"]] = message_id
        elif sender == "agent":
            self.tally.agent_messages += 1
        payload = message.get("payload") or {}
        if payload.get("rating_request"):
            self._ratings.append((message_id, str(payload.get("question") or "csat")))
