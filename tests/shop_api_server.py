"""A reference shop API for tests: the contract of `actions.orders.http_order_system`, served over a real socket.

It runs `http.server` in background threads on 127.0.0.1 and answers from a real `SqlOrderSystem`, so
the HTTP client is tested against the same rules the embedded shop applies. Tests can make it fail,
answer slowly or send garbage, and can read back every request it saw.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import hmac
import json
import logging
import shutil
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from sqlalchemy import select

from actions.orders import shop_schema as t
from actions.orders.demo_shop import create_demo_shop
from actions.orders.order_system import (
    ActionRefused,
    OrderNotFound,
    OrderSystemUnavailable,
    to_json,
)
from actions.orders.sql_order_system import SqlOrderSystem
from bot.store.database import create_engine

T = TypeVar("T")

logger = logging.getLogger(__name__)

VALIDATION_CODES = frozenset({"invalid_request", "empty_address", "bad_rating", "amount_out_of_range"})
Route = Callable[[dict[str, Any]], Coroutine[Any, Any, tuple[int, Any]]]


class InvalidRequest(ActionRefused):
    """The request body does not follow the contract (answered 422)."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_request", message)


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        return cls(status, json.dumps(data).encode(), headers=headers)

    @classmethod
    def error(cls, status: int, code: str, message: str) -> Reply:
        return cls.of(status, {"error": {"code": code, "message": message}})


@dataclasses.dataclass(frozen=True)
class SeenRequest:
    """One request as it arrived: `target` is the raw request target, before any decoding."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclasses.dataclass(frozen=True)
class Fault:
    """What to do to one upcoming request: replace its reply, and/or hold the reply back for `delay` s."""

    reply: Reply | None = None
    delay: float = 0.0


class ShopApiServer:
    """The shop API over the demo shop in `database_path`; serve with `start()`, end with `stop()`."""

    def __init__(self, database_path: Path, api_key: str = "test-shop-key", template: Path | None = None) -> None:
        """Open (and seed) the shop database; nothing listens until `start()`.

        Args:
            database_path: SQLite file for this server; it should not exist yet.
            api_key: The bearer key every request must carry.
            template: A file made by `seed_template` to copy instead of seeding again (seeding is slower).
        """
        self.api_key = api_key
        if template is not None:
            shutil.copyfile(template, database_path)
        self.engine = create_engine(f"sqlite:///{database_path}")
        create_demo_shop(self.engine, today=dt.date.today())
        self.sql = SqlOrderSystem(self.engine)
        self.requests: list[SeenRequest] = []
        self.replays = 0
        self._faults: collections.deque[Fault] = collections.deque()
        self._replies: dict[str, tuple[tuple[str, str, bytes], Reply]] = {}
        self._state_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._run_loop, name="shop-api-loop", daemon=True)
        self._httpd = _HttpServer(("127.0.0.1", 0), _RequestHandler, api=self)
        self._serve_thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="shop-api", daemon=True
        )

    @staticmethod
    def seed_template(path: Path) -> Path:
        """Seed a demo shop into `path` once, closed cleanly so it can be copied as a single file."""
        engine = create_engine(f"sqlite:///{path}")
        create_demo_shop(engine, today=dt.date.today())
        engine.dispose()
        return path

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def idempotency_keys(self) -> list[str | None]:
        return [r.idempotency_key for r in self.requests]

    def start(self) -> ShopApiServer:
        self._loop_thread.start()
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake requests held by `delay_next`, and release the database."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(timeout=5)
        self.engine.dispose()

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next `count` requests with `status` without acting on them."""
        reply = Reply.error(status, "injected_failure", f"injected HTTP {status}")
        self._add_faults(Fault(reply=reply) for _ in range(count))

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Act on the next `count` requests normally but send each reply only after `seconds`."""
        self._add_faults(Fault(delay=seconds) for _ in range(count))

    def reply_next(self, body: bytes, status: int = 200, content_type: str = "application/json") -> None:
        """Answer the next request with exactly this body, without acting on it."""
        self._add_faults([Fault(reply=Reply(status, body, content_type))])

    def requests_to(self, path_prefix: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.target.startswith(path_prefix)]

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[Reply, float]:
        """The reply to one request and how long to hold it back; called from the request's thread."""
        seen = SeenRequest(method, target, headers, body)
        with self._state_lock:
            self.requests.append(seen)
            fault = self._faults.popleft() if self._faults else Fault()
        if fault.reply is not None:
            return fault.reply, fault.delay
        if not self._authorised(headers.get("authorization", "")):
            reply = Reply.error(401, "unauthorized", "missing or wrong API key")
            return dataclasses.replace(reply, headers=(("WWW-Authenticate", "Bearer"),)), fault.delay
        if method in {"POST", "PUT"} and seen.idempotency_key:
            return self._handle_once(seen), fault.delay
        return self._route(method, target, body), fault.delay

    def _handle_once(self, seen: SeenRequest) -> Reply:
        """Act on a key's first request and answer its repeats with the stored reply."""
        key = seen.idempotency_key or ""
        fingerprint = (seen.method, seen.target, seen.body)
        with self._write_lock:
            stored = self._replies.get(key)
            if stored is not None:
                if stored[0] != fingerprint:
                    return Reply.error(422, "idempotency_key_reused", "This key was used for another request.")
                self.replays += 1
                return stored[1]
            reply = self._route(seen.method, seen.target, seen.body)
            if reply.status < 500:
                self._replies[key] = (fingerprint, reply)
            return reply

    def _authorised(self, authorization: str) -> bool:
        return hmac.compare_digest(authorization.encode(), f"Bearer {self.api_key}".encode())

    def _route(self, method: str, target: str, body: bytes) -> Reply:
        path = target.partition("?")[0]
        segments = [unquote(s) for s in path.split("/")[1:]]
        handlers = self._handlers(segments)
        if handlers is None:
            return Reply.error(404, "no_route", f"No route {path}.")
        handler = handlers.get(method)
        if handler is None:
            return Reply.error(405, "method_not_allowed", f"{method} is not allowed on {path}.")
        try:
            status, data = self._run(handler(_json_body(body) if method in {"POST", "PUT"} else {}))
        except OrderNotFound as exc:
            return Reply.error(404, "no_order", str(exc))
        except ActionRefused as exc:
            return Reply.error(422 if exc.code in VALIDATION_CODES else 409, exc.code, exc.message)
        except OrderSystemUnavailable as exc:
            return Reply.error(503, "unavailable", str(exc))
        except Exception:
            logger.exception("shop API %s %s failed", method, path)
            return Reply.error(500, "internal", "internal error")
        return Reply.of(status, data)

    def _handlers(self, segments: list[str]) -> dict[str, Route] | None:
        if segments == ["health"]:
            return {"GET": self._health}
        if segments == ["reviews"]:
            return {"POST": self._add_review}
        if len(segments) == 3 and segments[0] == "customers" and segments[2] == "vouchers":
            customer_id = segments[1]
            return {
                "POST": lambda body: self._issue_voucher(customer_id, body),
                "GET": lambda body: self._vouchers(customer_id),
            }
        if len(segments) == 2 and segments[0] == "newsletter":
            email = segments[1]
            return {"PUT": lambda body: self._set_newsletter(email, body)}
        if len(segments) == 2 and segments[0] == "invoices":
            invoice_number = segments[1]
            return {"GET": lambda body: self._find_invoice(invoice_number)}
        if len(segments) < 2 or segments[0] != "orders":
            return None
        number, rest = segments[1], tuple(segments[2:])
        routes: dict[tuple[str, ...], dict[str, Route]] = {
            (): {"GET": lambda body: self._get_order(number)},
            ("cancel",): {"POST": lambda body: self._cancel(number, body)},
            ("shipping-address",): {"PUT": lambda body: self._change_address(number, body)},
            ("refunds",): {
                "POST": lambda body: self._request_refund(number, body),
                "GET": lambda body: self._refunds(number),
            },
            ("invoice",): {"GET": lambda body: self._invoice(number)},
            ("refund-quote",): {"GET": lambda body: self._refund_quote(number)},
        }
        return routes.get(rest)

    async def _health(self, body: dict[str, Any]) -> tuple[int, Any]:
        await self.sql.ping()
        return 200, {"status": "ok"}

    async def _get_order(self, number: str) -> tuple[int, Any]:
        order = await self.sql.get_order(number)
        if order is None:
            raise OrderNotFound(number)
        return 200, order.to_dict()

    async def _cancel(self, number: str, body: dict[str, Any]) -> tuple[int, Any]:
        order = await self.sql.cancel_order(number, _text(body, "reason"), _text(body, "actor"))
        return 200, order.to_dict()

    async def _change_address(self, number: str, body: dict[str, Any]) -> tuple[int, Any]:
        order = await self.sql.change_shipping_address(number, _text(body, "address"), _text(body, "actor"))
        return 200, order.to_dict()

    async def _request_refund(self, number: str, body: dict[str, Any]) -> tuple[int, Any]:
        raw_amount = body.get("amount")
        try:
            amount = None if raw_amount is None else Decimal(str(raw_amount))
        except InvalidOperation:
            raise InvalidRequest("amount must be a decimal string or null") from None
        refund = await self.sql.request_refund(number, _text(body, "reason"), _text(body, "actor"), amount)
        return 201, to_json(refund)

    async def _refunds(self, number: str) -> tuple[int, Any]:
        return 200, {"refunds": [to_json(r) for r in await self.sql.refunds_for(number)]}

    async def _refund_quote(self, number: str) -> tuple[int, Any]:
        return 200, {"amount": str(await self.sql.refund_quote(number))}

    async def _find_invoice(self, invoice_number: str) -> tuple[int, Any]:
        invoice = await self.sql.find_invoice(invoice_number)
        if invoice is None:
            return 404, {"error": {"code": "no_invoice", "message": f"There is no invoice {invoice_number}."}}
        return 200, to_json(invoice)

    async def _invoice(self, number: str) -> tuple[int, Any]:
        invoice = await self.sql.get_invoice(number)
        if invoice is None:
            return 404, {"error": {"code": "no_invoice", "message": f"No invoice was issued for order {number}."}}
        return 200, to_json(invoice)

    async def _set_newsletter(self, email: str, body: dict[str, Any]) -> tuple[int, Any]:
        subscribed = body.get("subscribed")
        if not isinstance(subscribed, bool):
            raise InvalidRequest("subscribed must be true or false")
        await self.sql.set_newsletter(email, subscribed)
        return 200, {"email": email.strip().lower(), "subscribed": subscribed}

    async def _add_review(self, body: dict[str, Any]) -> tuple[int, Any]:
        rating = body.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool):
            raise InvalidRequest("rating must be a whole number")
        customer_id, order_number = body.get("customer_id"), body.get("order_number")
        if order_number is not None and await self.sql.get_order(str(order_number)) is None:
            raise ActionRefused("unknown_order", f"There is no order {order_number}.")
        if customer_id is not None and not self._customer_exists(str(customer_id)):
            raise ActionRefused("unknown_customer", f"There is no customer {customer_id}.")
        review_id = await self.sql.add_review(rating, _text(body, "text"), customer_id, order_number)
        return 201, {"id": review_id}

    async def _issue_voucher(self, customer_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        try:
            amount = Decimal(str(body.get("amount")))
        except InvalidOperation as exc:
            raise InvalidRequest("amount must be a decimal string") from exc
        voucher = await self.sql.issue_voucher(
            customer_id, amount, _text(body, "currency"), _text(body, "reason"), _text(body, "actor")
        )
        return 201, to_json(voucher)

    async def _vouchers(self, customer_id: str) -> tuple[int, Any]:
        return 200, {"vouchers": [to_json(v) for v in await self.sql.vouchers_for(customer_id)]}

    def _customer_exists(self, customer_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(t.customers.c.id).where(t.customers.c.id == customer_id)).first() is not None

    def _add_faults(self, faults: Iterable[Fault]) -> None:
        with self._state_lock:
            self._faults.extend(faults)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    def hold(self, seconds: float) -> None:
        """Wait before replying, but no longer than until the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body is not a JSON object")
    return data


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string")
    return value


class _HttpServer(ThreadingHTTPServer):
    """One thread per connection; handler threads never keep the test process alive."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: ShopApiServer) -> None:
        super().__init__(address, handler)
        self.api = api

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client gave up on a held reply (the timeout tests do that on purpose)."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded in `ShopApiServer.requests`; stderr stays clean."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        api = self.server.api
        reply, delay = api.handle(self.command, self.path, headers, body)
        api.hold(delay)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
