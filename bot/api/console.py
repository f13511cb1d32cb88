"""The agent console's HTTP API and live socket (documented in README.md).

Agents log in with username and password and get an HttpOnly, SameSite=Strict session cookie. Every
changing request must be JSON (a cross-site form cannot send it) and, when the browser says where it comes
from, from this hub's own origin. Errors are JSON: `{"error": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sanic.server.websockets.impl import WebsocketImplProtocol as Websocket

from actions.orders.order_number import order_number_from
from actions.orders.order_system import OrderSystemUnavailable, to_json
from bot.core.events import QUEUE_TOPIC, agent_topic, conversation_topic, notes_topic
from bot.core.order_desk import DeskResult
from bot.domain.errors import RequestRefused
from bot.domain.vocabulary import HANDLERS, Role, State
from bot.store.agents import Agent
from bot.store.records import Conversation

logger = logging.getLogger(__name__)

console_api = Blueprint("console_api")
SESSION_COOKIE = "frontline_session"
MAX_NOTE_CHARS = 4000
HEARTBEAT_SECONDS = 20


Handler = Callable[..., Awaitable[HTTPResponse]]


async def current_agent(request: Request) -> Agent | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await request.app.ctx.agents.agent_for_session(token) if token else None


def signed_in(*roles: Role) -> Callable[[Handler], Handler]:
    """Require a session (401), one of `roles` (403), and for changes a same-origin JSON request."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            if request.method not in {"GET", "HEAD"}:
                check_same_origin_json(request)
            agent = await current_agent(request)
            if agent is None:
                raise RequestRefused(401, "unauthenticated", "Please log in.")
            if roles and agent.role not in roles:
                raise RequestRefused(403, "forbidden", f"This needs the role {' or '.join(roles)}.")
            request.ctx.agent = agent
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate


@console_api.post("/api/login")
async def login(request: Request) -> HTTPResponse:
    check_same_origin_json(request)
    body = json_body(request)
    agent = await request.app.ctx.agents.authenticate(
        text_field(body, "username", 64), text_field(body, "password", 200)
    )
    if agent is None:
        raise RequestRefused(401, "bad_credentials", "Wrong username or password.")
    token = await request.app.ctx.agents.start_session(agent, request.app.ctx.settings.session_hours)
    response = json_response({"agent": agent.to_json()})
    response.cookies[SESSION_COOKIE] = token
    cookie = response.cookies[SESSION_COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = request.app.ctx.settings.session_hours * 3600
    logger.info("agent=%s logged in", agent.username)
    return response


@console_api.post("/api/logout")
async def logout(request: Request) -> HTTPResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await request.app.ctx.agents.end_session(token)
    response = json_response({"ok": True})
    del response.cookies[SESSION_COOKIE]
    return response


@console_api.get("/api/me")
@signed_in()
async def me(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    return json_response(
        {
            "agent": request.ctx.agent.to_json(),
            "limits": {"max_message_chars": settings.max_message_chars, "max_note_chars": MAX_NOTE_CHARS},
        }
        | {"order_limits": request.app.ctx.order_desk.limits}
    )


@console_api.get("/api/agents")
@signed_in()
async def agents(request: Request) -> HTTPResponse:
    online = {a.id for a in await request.app.ctx.agents.online()}
    return json_response(
        {"agents": [a.to_json() | {"online": a.id in online} for a in await request.app.ctx.agents.all()]}
    )


@console_api.get("/api/queue")
@signed_in()
async def queue(request: Request) -> HTTPResponse:
    hub = request.app.ctx.hub
    statuses = await hub.queue.statuses()
    waiting = []
    for conversation in await hub.conversations.waiting():
        handoff = await hub.conversations.handoff(conversation.handoff_id) if conversation.handoff_id else None
        waiting.append(
            conversation.to_json()
            | {"queue": statuses[conversation.id].to_json() if conversation.id in statuses else None}
            | {"packet": handoff.packet if handoff else None}
        )
    mine = [c.to_json() for c in await hub.conversations.assigned_to(request.ctx.agent.id)]
    return json_response(
        {"waiting": waiting, "mine": mine, "agents_online": len(await request.app.ctx.agents.online())}
    )


@console_api.get("/api/conversations/<conversation_id:str>")
@signed_in()
async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
    hub, desk = request.app.ctx.hub, request.app.ctx.order_desk
    current = await _conversation(request, conversation_id)
    handoff = await hub.conversations.handoff(current.handoff_id) if current.handoff_id else None
    order, order_error, number = None, None, _order_number(handoff.packet if handoff else {})
    if number:
        try:
            found = await desk.order(number)
            order = to_json(found) if found else None
        except OrderSystemUnavailable as exc:
            order_error = str(exc)
    agent = await request.app.ctx.agents.get(current.assigned_agent_id) if current.assigned_agent_id else None
    return json_response(
        {
            "conversation": current.to_json(),
            "assigned_agent": agent.to_json() if agent else None,
            "messages": [m.to_json() for m in await hub.conversations.messages(conversation_id)],
            "handoff": handoff.to_json() if handoff else None,
            "notes": await hub.conversations.notes.of(conversation_id),
            "order": order,
            "order_error": order_error,
            "order_actions": await hub.conversations.order_actions(conversation_id),
            "limits": desk.limits,
        }
    )


@console_api.post("/api/conversations/<conversation_id:str>/claim")
@signed_in()
async def claim(request: Request, conversation_id: str) -> HTTPResponse:
    await _conversation(request, conversation_id)
    claimed = await request.app.ctx.hub.claim(request.ctx.agent, conversation_id)
    return json_response({"conversation": claimed.to_json()})


@console_api.post("/api/conversations/<conversation_id:str>/messages")
@signed_in()
async def reply(request: Request, conversation_id: str) -> HTTPResponse:
    body = json_body(request)
    text = text_field(body, "text", request.app.ctx.settings.max_message_chars)
    client_id = body.get("client_id") if isinstance(body.get("client_id"), str) else None
    await _conversation(request, conversation_id)
    message = await request.app.ctx.hub.reply(request.ctx.agent, conversation_id, text, client_id)
    return json_response({"message": message.to_json()}, status=201)


@console_api.post("/api/conversations/<conversation_id:str>/notes")
@signed_in()
async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
    text = text_field(json_body(request), "text", MAX_NOTE_CHARS)
    await _conversation(request, conversation_id)
    note = await request.app.ctx.hub.add_note(request.ctx.agent, conversation_id, text)
    return json_response({"note": note}, status=201)


@console_api.post("/api/conversations/<conversation_id:str>/transfer")
@signed_in()
async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
    target_id = json_body(request).get("agent_id")
    target = await request.app.ctx.agents.get(target_id) if isinstance(target_id, int) else None
    if target is None:
        raise RequestRefused(400, "unknown_agent", "Transfer to which agent? Give an existing agent_id.")
    await _conversation(request, conversation_id)
    await request.app.ctx.hub.transfer(request.ctx.agent, conversation_id, target)
    return json_response({"ok": True})


@console_api.post("/api/conversations/<conversation_id:str>/resolve")
@signed_in()
async def resolve(request: Request, conversation_id: str) -> HTTPResponse:
    await _conversation(request, conversation_id)
    await request.app.ctx.hub.resolve(request.ctx.agent, conversation_id)
    return json_response({"ok": True})


@console_api.post("/api/conversations/<conversation_id:str>/orders/<number:str>/<kind:str>")
@signed_in(*HANDLERS)
async def act_on_order(request: Request, conversation_id: str, number: str, kind: str) -> HTTPResponse:
    body = json_body(request)
    reason = text_field(body, "reason", 500)
    current = await _conversation(request, conversation_id)
    _owner(request, current)
    desk = request.app.ctx.order_desk
    if kind == "cancel":
        work = desk.cancel(request.ctx.agent, conversation_id, number, reason)
    elif kind == "refund":
        work = desk.refund(request.ctx.agent, conversation_id, number, str(body.get("amount", "")), reason)
    else:
        raise RequestRefused(404, "unknown_action", "Order actions are cancel and refund.")
    result = await work
    return await _announce(request, conversation_id, result)


@console_api.post("/api/conversations/<conversation_id:str>/voucher")
@signed_in(*HANDLERS)
async def voucher(request: Request, conversation_id: str) -> HTTPResponse:
    body = json_body(request)
    current = await _conversation(request, conversation_id)
    _owner(request, current)
    result = await request.app.ctx.order_desk.voucher(
        request.ctx.agent,
        conversation_id,
        text_field(body, "customer_id", 32),
        str(body.get("amount", "")),
        text_field(body, "currency", 3).upper(),
        text_field(body, "reason", 500),
    )
    return await _announce(request, conversation_id, result)


@console_api.get("/api/canned-replies")
@signed_in()
async def canned_replies(request: Request) -> HTTPResponse:
    return json_response({"canned_replies": await request.app.ctx.canned_replies.all()})


@console_api.post("/api/canned-replies")
@signed_in(Role.SUPERVISOR)
async def add_canned_reply(request: Request) -> HTTPResponse:
    body = json_body(request)
    reply = await request.app.ctx.canned_replies.add(text_field(body, "title", 120), text_field(body, "text", 4000))
    return json_response({"canned_reply": reply}, status=201)


@console_api.websocket("/ws/agent")
async def agent_socket(request: Request, ws: Websocket) -> None:
    """Live events for a signed-in agent: the queue, their assignments, and the conversations they open."""
    agent = await current_agent(request)
    if agent is None:
        await ws.send(json.dumps({"type": "error", "code": "unauthenticated", "message": "Please log in."}))
        await ws.close(code=4401, reason="unauthenticated")
        return
    hub, agents = request.app.ctx.hub, request.app.ctx.agents
    subscription = hub.bus.subscribe(QUEUE_TOPIC, agent_topic(agent.id))
    await agents.seen(agent.id)
    await hub.announce_queue()
    if request.app.ctx.settings.auto_assign:
        await hub.assign_waiting()

    async def forward() -> None:
        async for event in subscription:
            await ws.send(json.dumps(event))

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await agents.seen(agent.id)

    tasks = [asyncio.create_task(forward()), asyncio.create_task(heartbeat())]
    try:
        await ws.send(json.dumps({"type": "hello", "agent": agent.to_json()}))
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
    finally:
        for task in tasks:
            task.cancel()
        subscription.close()
        await hub.agent_left(agent.id)


async def _announce(request: Request, conversation_id: str, result: DeskResult) -> HTTPResponse:
    await request.app.ctx.hub.report_order_action(
        request.ctx.agent, conversation_id, result.summary, result.customer_text
    )
    return json_response({"result": result.record, "summary": result.summary}, status=201)


async def _conversation(request: Request, conversation_id: str) -> Conversation:
    return await request.app.ctx.hub.conversations.get(conversation_id)


def _owner(request: Request, conversation: Any) -> None:
    if conversation.state != State.AGENT or conversation.assigned_agent_id != request.ctx.agent.id:
        raise RequestRefused(403, "not_yours", "Claim the conversation before acting on the customer's orders.")


def json_body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as exc:  # Sanic raises its own error for malformed JSON
        raise RequestRefused(400, "bad_json", "The body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise RequestRefused(400, "bad_json", "The body must be a JSON object.")
    return body


def text_field(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RequestRefused(400, "missing", f"{name} is required.")
    value = value.replace("\x00", "").strip()
    if len(value) > limit:
        raise RequestRefused(413, "too_long", f"{name} can be at most {limit} characters.")
    return value


def check_same_origin_json(request: Request) -> None:
    if (request.content_type or "").split(";")[0].strip() != "application/json":
        raise RequestRefused(415, "json_required", "Send JSON (Content-Type: application/json).")
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.host:
        raise RequestRefused(403, "cross_origin", "Requests must come from the console itself.")


def _order_number(packet: dict[str, Any]) -> str | None:
    number = order_number_from(packet.get("order_id"))
    if number:
        return number
    for value in reversed((packet.get("entities") or {}).get("order_id") or []):
        number = order_number_from(value)
        if number:
            return number
    return None
