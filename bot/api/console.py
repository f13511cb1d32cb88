"""The agent console's HTTP API and live socket (documented in README.md).

Agents log in with username and password and get an HttpOnly, SameSite=Strict session cookie (Secure when
PUBLIC_URL is https). Failed logins are counted per account and per client address (bot/store/login_attempts.py);
past the limits the answer is 429 with Retry-After, before the password is even checked. Every changing request
must be JSON (a cross-site form cannot send it) and, when the browser says where it comes from, from this hub's
own origin. Errors are JSON: `{"error": {"code": ..., "message": ...}}`.
The console's live socket is in agent_socket.py.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.api.errors import error_response
from bot.core.events import agent_topic, logged_out
from bot.core.order_desk import DeskResult
from bot.domain.errors import RequestRefused
from bot.domain.tokens import digest
from bot.domain.vocabulary import HANDLERS, Role, State
from bot.store.agents import Agent
from bot.store.records import Conversation

logger = logging.getLogger(__name__)

console_api = Blueprint("console_api")
SESSION_COOKIE = "frontline_session"
MAX_NOTE_CHARS = 4000


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
    username, password = text_field(body, "username", 64), text_field(body, "password", 200)
    attempts, settings = request.app.ctx.login_attempts, request.app.ctx.settings
    wait = await attempts.admit(username, client_address(request))
    if wait is not None:
        logger.warning("login refused for agent=%r: too many failed logins for it or from its address", username)
        refused = error_response(
            RequestRefused(429, "too_many_logins", f"Too many failed logins. Try again in {wait} seconds.")
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    agent = await request.app.ctx.agents.authenticate(username, password)
    if agent is None:
        logger.info("login failed for agent=%r", username)
        raise RequestRefused(401, "bad_credentials", "Wrong username or password.")
    await attempts.succeeded(username)
    token = await request.app.ctx.agents.start_session(agent, settings.session_hours)
    response = json_response({"agent": agent.to_json()})
    response.cookies[SESSION_COOKIE] = token
    cookie = response.cookies[SESSION_COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = settings.session_hours * 3600
    cookie["secure"] = settings.public_url.startswith("https://")
    logger.info("agent=%s logged in", agent.username)
    return response


@console_api.post("/api/logout")
async def logout(request: Request) -> HTTPResponse:
    token = request.cookies.get(SESSION_COOKIE)
    agent_id = await request.app.ctx.agents.end_session(token) if token else None
    if token and agent_id is not None:
        await request.app.ctx.hub.bus.publish(agent_topic(agent_id), logged_out(digest(token)))
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
            "intent_titles": request.app.ctx.intent_titles.to_json(),
        }
        | {"order_limits": await request.app.ctx.order_desk.allowance(request.ctx.agent, None, None)}
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
    for conversation in await hub.conversations.reads.waiting():
        handoff = await hub.conversations.reads.handoff(conversation.handoff_id) if conversation.handoff_id else None
        waiting.append(
            conversation.to_json()
            | {"queue": statuses[conversation.id].to_json() if conversation.id in statuses else None}
            | {"packet": handoff.packet if handoff else None}
        )
    mine = [c.to_json() for c in await hub.conversations.reads.assigned_to(request.ctx.agent.id)]
    return json_response(
        {"waiting": waiting, "mine": mine, "agents_online": len(await request.app.ctx.agents.online())}
    )


@console_api.get("/api/conversations/<conversation_id:str>")
@signed_in()
async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
    hub, desk = request.app.ctx.hub, request.app.ctx.order_desk
    current = await _conversation(request, conversation_id)
    handoff = await hub.conversations.reads.handoff(current.handoff_id) if current.handoff_id else None
    panel = await desk.panel(request.ctx.agent, conversation_id, handoff.packet if handoff else {})
    agent = await request.app.ctx.agents.get(current.assigned_agent_id) if current.assigned_agent_id else None
    return json_response(
        {
            "conversation": current.to_json(),
            "assigned_agent": agent.to_json() if agent else None,
            "messages": [m.to_json() for m in await hub.conversations.messages(conversation_id)],
            "handoff": handoff.to_json() if handoff else None,
            "notes": await hub.conversations.notes.of(conversation_id),
            "ratings": await hub.conversations.feedback.answers_of(conversation_id),
            "order_actions": await desk.taken(conversation_id),
        }
        | panel
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
        work = desk.refund(request.ctx.agent, conversation_id, number, body.get("amount"), reason)
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
    currency = text_field(body, "currency", 3).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RequestRefused(400, "bad_currency", "currency must be a three-letter code like EUR.")
    claimed = body.get("customer_id")
    if claimed is not None and not isinstance(claimed, str):
        raise RequestRefused(400, "bad_customer", "customer_id, when given, must be a string.")
    result = await request.app.ctx.order_desk.voucher(
        request.ctx.agent, conversation_id, body.get("amount"), currency, text_field(body, "reason", 500), claimed
    )
    return await _announce(request, conversation_id, result)


@console_api.post("/api/conversations/<conversation_id:str>/identity-check")
@signed_in(*HANDLERS)
async def identity_check(request: Request, conversation_id: str) -> HTTPResponse:
    """The agent who has the conversation vouches for who the customer is, saying how they checked."""
    how = text_field(json_body(request), "how", 300)
    _owner(request, await _conversation(request, conversation_id))
    check = await request.app.ctx.order_desk.confirm_identity(request.ctx.agent, conversation_id, how)
    await request.app.ctx.hub.report_order_action(
        request.ctx.agent, conversation_id, f"checked who the customer is: {check.how}", ""
    )
    return json_response({"check": check.to_json()}, status=201)


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
    if origin and not is_own_origin(request, origin):
        raise RequestRefused(403, "cross_origin", "Requests must come from the console itself.")


def is_own_origin(request: Request, origin: str) -> bool:
    """`origin` is this hub as the browser reached it (the Host it asked for) or as PUBLIC_URL names it."""
    parsed, public = urlparse(origin), urlparse(request.app.ctx.settings.public_url)
    return parsed.netloc == request.host or (parsed.scheme, parsed.netloc) == (public.scheme, public.netloc)


def client_address(request: Request) -> str:
    """The address login throttling counts: the client's as a trusted proxy reports it when Sanic is configured
    to trust one (FORWARDED_SECRET, REAL_IP_HEADER, PROXIES_COUNT; see README), else the connection's peer."""
    return request.remote_addr or request.ip or "unknown"
