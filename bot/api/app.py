"""The hub as one Sanic app: customer WebSocket, agent console and API, demo shop page, health."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse, file, json

from actions.orders.order_system_provider import order_system
from bot.api.agent_socket import agent_socket_api
from bot.api.console import console_api
from bot.api.errors import install_error_handlers
from bot.api.insight import insight_api
from bot.api.review import review_api
from bot.channels.telegram.channel import CHANNEL as TELEGRAM
from bot.channels.telegram.channel import WEBHOOK_PATH, TelegramChannel
from bot.channels.telegram.webhook import telegram_webhook
from bot.channels.web import customer_socket
from bot.core.coordination import coordination
from bot.core.hub import Hub
from bot.core.model_reload import ModelReloader
from bot.core.order_desk import OrderDesk, desk_limits
from bot.core.rasa_client import RasaApi
from bot.core.rasa_servers import connect_rasa
from bot.core.review_inbox import ReviewInbox
from bot.core.service_report import ServiceReport
from bot.core.settings import HubSettings
from bot.domain.intent_titles import IntentTitles
from bot.domain.production_guard import DEMO_PASSWORD
from bot.store.agents import AgentError, AgentStore
from bot.store.canned_replies import CannedReplies
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from bot.store.deliveries import DeliveryLog
from bot.store.login_attempts import LoginAttempts

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parents[1] / "static"
DEMO_AGENTS = (
    ("demo.agent", "Sam (demo agent)", "agent"),
    ("demo.supervisor", "Alex (demo supervisor)", "supervisor"),
    ("demo.trainer", "Robin (demo trainer)", "trainer"),
)
SHUTDOWN_DRAIN_SECONDS = 10.0
"""How long a stopping hub lets the messages in flight finish; the rest the next hub picks up."""
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
"""Sent when PUBLIC_URL is https: browsers then refuse plain http to the hub for a year."""


def create_app(settings: HubSettings | None = None, name: str = "frontline_hub", rasa: RasaApi | None = None) -> Sanic:
    """The hub; `rasa` replaces the HTTP client of the Rasa server (in-process tests give a fake one)."""
    settings = settings or HubSettings.from_env()
    app = Sanic(name)
    app.config.WEBSOCKET_MAX_SIZE = settings.max_frame_bytes
    app.config.REQUEST_MAX_SIZE = settings.max_frame_bytes
    app.config.WEBSOCKET_PING_INTERVAL = 20
    app.ctx.settings = settings
    app.ctx.intent_titles = IntentTitles.load(settings.project_dir)

    @app.before_server_start
    async def start(app: Sanic, _loop: object) -> None:
        engine = create_engine(settings.database_url)
        conversations = ConversationStore(engine, idle_after=dt.timedelta(minutes=settings.conversation_idle_minutes))
        conversations.create_schema()
        app.ctx.agents = AgentStore(engine)
        app.ctx.login_attempts = LoginAttempts(engine, settings.login_limits)
        app.ctx.canned_replies = CannedReplies(engine)
        app.ctx.rasa = rasa or connect_rasa(settings)
        app.ctx.coordination = shared = coordination(settings)
        await shared.start()
        app.ctx.hub = Hub(
            settings,
            conversations,
            app.ctx.agents,
            app.ctx.rasa,
            shared.bus,
            locks=shared.locks,
            gate=shared.gate,
            leases=shared.leases,
        )
        app.ctx.order_desk = OrderDesk(order_system(), conversations, desk_limits(settings))
        app.ctx.http = httpx.AsyncClient(timeout=2.0)
        app.ctx.review = ReviewInbox(engine, settings.review_confidence)
        app.ctx.reloader = ModelReloader(app.ctx.hub)
        app.ctx.report = ServiceReport(engine)
        await app.ctx.canned_replies.seed()
        if settings.seed_demo_agent:
            await seed_demo_agents(app.ctx.agents)
        app.ctx.telegram = None
        if settings.telegram.enabled:
            app.ctx.telegram = TelegramChannel(app.ctx.hub, settings.telegram, DeliveryLog(engine, TELEGRAM))
        else:
            logger.info("Telegram channel is off: TELEGRAM_TOKEN is not set")

    @app.after_server_start
    async def start_channels(app: Sanic, _loop: object) -> None:
        app.ctx.hub.router.start()
        if app.ctx.telegram is not None:
            await app.ctx.telegram.start()

    @app.before_server_stop
    async def stop_channels(app: Sanic, _loop: object) -> None:
        await app.ctx.hub.router.stop()
        if app.ctx.telegram is not None:
            await app.ctx.telegram.stop()

    @app.after_server_stop
    async def stop(app: Sanic, _loop: object) -> None:
        await app.ctx.hub.drain(timeout=SHUTDOWN_DRAIN_SECONDS)
        await app.ctx.coordination.close()
        await app.ctx.rasa.close()
        await app.ctx.http.aclose()

    @app.on_response
    async def secure(request: Request, response: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if settings.public_url.startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.path.startswith("/static/"):
            # A shop's page on its own domain loads the widget's ES modules from here; modules need CORS.
            response.headers.setdefault("Access-Control-Allow-Origin", "*")

    install_error_handlers(app)

    @app.get("/healthz")
    async def healthz(request: Request) -> HTTPResponse:
        checks = {
            "database": await _database_ok(app),
            "rasa": await app.ctx.rasa.healthy(),
            "actions": await _actions_ok(app),
        }
        return json({"ok": all(checks.values()), "checks": checks}, status=200 if all(checks.values()) else 503)

    app.add_websocket_route(customer_socket, "/ws/customer")
    app.add_route(telegram_webhook, WEBHOOK_PATH, methods=["POST"], name="telegram_webhook")
    app.blueprint(console_api)
    app.blueprint(agent_socket_api)
    app.blueprint(review_api)
    app.blueprint(insight_api)
    for route, name_ in (("/", "shop.html"), ("/console", "console.html")):
        app.add_route(_page(name_), route, name=f"page_{name_.replace('.', '_')}")
    app.static("/static", str(STATIC), name="static")
    return app


async def seed_demo_agents(agents: AgentStore) -> None:
    """Accounts for local runs (documented in README); switched off with SEED_DEMO_AGENT=false."""
    for username, display_name, role in DEMO_AGENTS:
        try:
            await agents.add(username, display_name, DEMO_PASSWORD, role)
        except AgentError:
            continue


def _page(name: str) -> Callable[[Request], Awaitable[HTTPResponse]]:
    async def page(request: Request) -> HTTPResponse:
        return await file(STATIC / name, mime_type="text/html; charset=utf-8")

    return page


async def _database_ok(app: Sanic) -> bool:
    try:
        await app.ctx.hub.conversations.reads.waiting()
    except Exception:  # any database failure makes the hub unhealthy
        logger.exception("health check: database")
        return False
    return True


async def _actions_ok(app: Sanic) -> bool:
    try:
        response = await app.ctx.http.get(f"{app.ctx.settings.actions_url}/health")
    except httpx.HTTPError:
        return False
    return response.status_code == 200
