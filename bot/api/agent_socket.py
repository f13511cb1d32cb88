"""The agent console's live socket (`/ws/agent`): the queue, the agent's assignments and the conversations they
watch, pushed as JSON events (documented in README.md).

It closes with 4401 when the session ends: at once on a logout in this hub process (the `logged_out` event on the
agent's topic), and at the next heartbeat (AGENT_HEARTBEAT_SECONDS) for a logout on another hub process or an
expired or deactivated account; with 4403 when another site's page opens it; with 4408 when the console does not
read its events (socket_outbox.py). The console signs out on 4401 and reconnects on anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from sanic import Blueprint, Request
from sanic.server.websockets.impl import WebsocketImplProtocol as Websocket

from bot.api.console import SESSION_COOKIE, is_own_origin
from bot.channels.socket_outbox import SocketOutbox
from bot.core.events import LOGGED_OUT, QUEUE_TOPIC, agent_topic, conversation_topic, notes_topic
from bot.domain.tokens import digest, new_token

logger = logging.getLogger(__name__)

agent_socket_api = Blueprint("agent_socket_api")
SESSION_ENDED = 4401
CROSS_ORIGIN = 4403


@agent_socket_api.websocket("/ws/agent")
async def agent_socket(request: Request, ws: Websocket) -> None:
    """Live events for a signed-in agent: the queue, their assignments, and the conversations they open.

    A browser always names the page's origin when it opens a WebSocket (and cookies go along, SameSite or
    not), so a foreign origin is refused; no Origin at all is a program, not a page another site could
    have opened in an agent's browser, and it is let in like any HTTP client with the cookie.
    """
    origin = request.headers.get("origin")
    if origin and not is_own_origin(request, origin):
        logger.warning("agent socket refused: opened from another origin %r", origin[:200])
        await ws.close(code=CROSS_ORIGIN, reason="cross-origin")
        return
    token = request.cookies.get(SESSION_COOKIE) or ""
    agents = request.app.ctx.agents
    agent = await agents.agent_for_session(token) if token else None
    if agent is None:
        await ws.send(json.dumps({"type": "error", "code": "unauthenticated", "message": "Please log in."}))
        await ws.close(code=SESSION_ENDED, reason="unauthenticated")
        return
    hub, session, console = request.app.ctx.hub, digest(token), new_token()[:32]
    heartbeat_seconds = request.app.ctx.settings.heartbeat_seconds
    subscription = hub.bus.subscribe(QUEUE_TOPIC, agent_topic(agent.id))
    outbox = SocketOutbox(ws)
    outbox.start()
    await agents.seen(agent.id, console)
    outbox.put({"type": "hello", "agent": agent.to_json()})  # after `seen`: hello means "you count as online"
    await hub.announce_queue()
    if request.app.ctx.settings.auto_assign:
        await hub.assign_waiting()

    async def forward() -> None:
        async for event in subscription:
            if event.get("type") != LOGGED_OUT:
                outbox.put(event)
            elif event.get("session") == session:
                logger.info("agent=%s socket closed: logged out", agent.username)
                outbox.close(SESSION_ENDED, "logged out")

    async def heartbeat() -> None:
        """Online while the console is open, and only while its session lasts (a logout on another hub, expiry)."""
        while True:
            await asyncio.sleep(heartbeat_seconds)
            if await agents.agent_for_session(token) is None:
                logger.info("agent=%s socket closed: session ended", agent.username)
                outbox.close(SESSION_ENDED, "session ended")
                return
            await agents.seen(agent.id, console)

    async def read() -> None:
        while True:
            raw = await ws.recv()
            if raw is None:
                return
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                frame = json.loads(raw)
                conversation_id = frame.get("conversation_id")
                if isinstance(conversation_id, str) and frame.get("type") == "watch":
                    subscription.add(conversation_topic(conversation_id))
                    subscription.add(notes_topic(conversation_id))
                elif isinstance(conversation_id, str) and frame.get("type") == "unwatch":
                    subscription.remove(conversation_topic(conversation_id))
                    subscription.remove(notes_topic(conversation_id))

    tasks = [asyncio.create_task(forward()), asyncio.create_task(heartbeat())]
    try:
        await outbox.until_closed(read())
    finally:
        for task in tasks:
            task.cancel()
        subscription.close()
        await outbox.finish()
        await hub.agent_left(agent.id, console)
