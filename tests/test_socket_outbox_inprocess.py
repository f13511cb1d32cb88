"""Clients that stop reading, on the hub in-process: a widget that sends 10,000 pings and reads none of the pongs,
and a console that reads none of its events, are closed with 4408 once 500 frames wait for them, and the
customer's message sent before the stall is in the history of the reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from bot.channels.socket_outbox import OUTBOX_LIMIT, SLOW_CONSUMER
from bot.core.events import agent_topic
from tests.inprocess import InProcessHub, running_hub

PINGS = 10_000


async def stalled_socket(hub: InProcessHub, path: str, **headers: str) -> Any:
    """A raw WebSocket client that reads as little as it can: a 4 KiB TCP receive window, a 256-byte read
    buffer and one message queued, so once the test stops calling `recv` the hub's sends soon have to wait."""
    host, port = hub.url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return await websockets.connect(
        f"ws://{hub.url.removeprefix('http://')}{path}",
        sock=sock,
        max_queue=1,
        read_limit=256,
        compression=None,
        ping_interval=None,
        extra_headers=headers,
    )


async def sockets_served(hub: InProcessHub) -> int:
    return len(hub.app.websocket_tasks)


async def until_hub_lets_go(hub: InProcessHub, timeout: float = 20.0) -> float:
    """Seconds until the hub has no socket handler left (the stalled client's was the only one)."""
    started = time.monotonic()
    while await sockets_served(hub):
        assert time.monotonic() - started < timeout, "the hub kept serving a client that reads nothing"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def read_to_the_close(ws: Any) -> list[dict[str, Any]]:
    frames = []
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    return frames


def test_a_widget_that_never_reads_is_closed_4408_with_its_outbox_bounded_and_loses_nothing_it_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels.socket_outbox")

    async def main() -> None:
        async with running_hub(tmp_path / "hub.db") as hub:
            ws = await stalled_socket(hub, "/ws/customer")
            await ws.send(json.dumps({"type": "hello", "last_id": 0}))
            welcome = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "message", "client_id": "before-the-stall", "text": "my kettle broke"}))

            async def ping() -> int:
                sent = 0
                with contextlib.suppress(websockets.ConnectionClosed):
                    for _ in range(PINGS):
                        await ws.send('{"type": "ping"}')
                        sent += 1
                return sent

            pinging = asyncio.create_task(ping())
            waited = await until_hub_lets_go(hub)
            frames = await read_to_the_close(ws)
            sent = await asyncio.wait_for(pinging, 30)
            pongs = sum(frame["type"] == "pong" for frame in frames)
            print(f"pings sent {sent}, pongs read {pongs}, hub let go after {waited:.2f}s, close {ws.close_code}")
            assert ws.close_code == SLOW_CONSUMER and ws.close_reason == "slow consumer, reconnect"
            assert pongs < sent, "the hub dropped what it could not send instead of keeping it"

            again = await hub.connected_customer(token=welcome["token"], last_id=0)
            assert [m["text"] for m in again.messages("customer")] == ["my kettle broke"]

    asyncio.run(main())
    assert f"socket closed: {OUTBOX_LIMIT} frames unread by a slow client" in caplog.text


def test_a_console_that_never_reads_is_closed_4408(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_hub(tmp_path / "hub.db") as hub:
            sam = await hub.agent("sam")
            cookie = f"frontline_session={sam.http.cookies['frontline_session']}"
            ws = await stalled_socket(hub, "/ws/agent", Cookie=cookie)
            assert json.loads(await ws.recv())["type"] == "hello"
            padding = "x" * 200
            published = 0
            while await sockets_served(hub) and published < 20 * OUTBOX_LIMIT:
                await hub.hub.bus.publish(agent_topic(hub.agents["sam"].id), {"type": "queue", "pad": padding})
                published += 1
                await asyncio.sleep(0)  # the socket's forwarder takes each event, as between real events
            await until_hub_lets_go(hub)
            frames = await read_to_the_close(ws)
            print(f"events published {published}, read {len(frames)}, close {ws.close_code}")
            assert ws.close_code == SLOW_CONSUMER
            assert len(frames) < published

    asyncio.run(main())
