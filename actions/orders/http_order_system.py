"""The order system as a client of a shop's own JSON HTTP API (`ORDER_SYSTEM=http`).

This docstring is the contract a shop implements. Every route answers JSON and requires
`Authorization: Bearer <SHOP_API_KEY>` when the shop has a key (401/403 otherwise). Bodies use the
`to_dict` forms of `actions.orders.order_system`: dates and datetimes as ISO 8601 strings, money as decimal
strings ("89.00"). Refusals carry `{"error": {"code": "...", "message": "..."}}`; `code` is
machine-readable (e.g. "already_shipped"), `message` may be shown to a customer.

    GET  /health                             -> 200 (used by `ping`)
    GET  /orders/{number}                    -> 200 Order | 404
    POST /orders/{number}/cancel             {"reason", "actor"}
                                             -> 200 Order | 404 | 409 error
    PUT  /orders/{number}/shipping-address   {"address", "actor"}
                                             -> 200 Order | 404 | 409/422 error
    POST /orders/{number}/refunds            {"reason", "actor", "amount": "12.50" | null}
                                             -> 201 Refund | 404 | 409 error
    GET  /orders/{number}/refunds            -> 200 {"refunds": [Refund, ...]} (newest first) | 404
    GET  /orders/{number}/refund-quote       -> 200 {"amount": "12.50"} (a whole refund now) | 404 | 409 error
    GET  /orders/{number}/invoice            -> 200 Invoice
                                             | 404 {"error": {"code": "no_order"}}   (no such order)
                                             | 404 {"error": {"code": "no_invoice"}} (none issued yet)
    GET  /invoices/{invoice_number}          -> 200 Invoice | 404 (no such invoice)
    PUT  /newsletter/{email}                 {"subscribed": true | false} -> 200
    POST /reviews                            {"rating", "text", "customer_id", "order_number"}
                                             -> 201 {"id": "..."} | 422 error
    POST /customers/{id}/vouchers            {"amount": "10.00", "currency", "reason", "actor"}
                                             -> 201 Voucher | 409/422 error (unknown customer, bad amount)
    GET  /customers/{id}/vouchers            -> 200 {"vouchers": [Voucher, ...]} (newest first; none: [])

Path values are percent-encoded as one segment each ("/" becomes %2F, "?" %3F, "." and ".." %2E),
so a shop must decode a segment after splitting the path, never before. `actor` names who acted
("customer", "agent:jo") for the shop's audit log.

Any 404 from GET /orders/{number} reads as "no such order" (and a 404 from /invoice without "no_order"
as "no invoice"), so a wrong base URL looks like unknown orders: call `ping` at startup, since /health
must answer 200.

Mutating requests (POST and PUT) carry an `Idempotency-Key` header (a UUID4). Frontline retries once on
a timeout, a transport error or a 502/503/504, with the same key; a shop should answer a repeated key
with the first response instead of acting again, so a lost response can never cancel or refund twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple, NoReturn, TypeVar
from urllib.parse import quote

import httpx

from actions.orders.order_system import (
    ActionRefused,
    Invoice,
    Order,
    OrderNotFound,
    OrderSystem,
    OrderSystemError,
    OrderSystemUnavailable,
    Refund,
    Voucher,
    invoice_from_dict,
    refund_from_dict,
    voucher_from_dict,
)
from actions.settings import Settings
from bot.domain.errors import ConfigurationError

T = TypeVar("T")

logger = logging.getLogger(__name__)

USER_AGENT = f"frontline/1.0 httpx/{httpx.__version__}"
DEFAULT_TIMEOUT_SECONDS = 5.0
RETRY_BACKOFF_SECONDS = 0.2
RETRY_STATUSES = frozenset({502, 503, 504})
REFUSAL_STATUSES = frozenset({409, 422})
AUTH_STATUSES = frozenset({401, 403})
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError)


class HttpOrderSystem(OrderSystem):
    """Reads and changes orders through a shop's HTTP API, so shops keep their data in their own system.

    One `httpx.AsyncClient` per instance keeps connections alive between a conversation's calls. Every
    failure that is not a shop rule becomes `OrderSystemUnavailable`, like the SQL system's.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        retry_backoff: float = RETRY_BACKOFF_SECONDS,
    ) -> None:
        """Prepare the client; no request is made until the first call.

        Args:
            base_url: Root of the shop API, e.g. "https://shop.example.com/frontline-api".
            api_key: Sent as a bearer token; None sends no Authorization header.
            timeout: Seconds allowed for connecting and for each read, per attempt.
            retry_backoff: Seconds to wait before the one retry.
        """
        if timeout <= 0:
            raise ConfigurationError("the shop API timeout must be more than 0 seconds")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._has_key = bool(api_key)
        self._retry_backoff = retry_backoff
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=httpx.Timeout(timeout))

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOrderSystem:
        if not settings.shop_api_url:
            raise ConfigurationError("the HTTP order system needs SHOP_API_URL (the shop API's base URL)")
        return cls(settings.shop_api_url, settings.shop_api_key, timeout=settings.shop_api_timeout)

    async def get_order(self, number: str) -> Order | None:
        if not number:
            return None
        answer = await self._call("GET", _order_path(number))
        if answer.response.status_code == 404:
            return None
        return _result(answer, Order.from_dict, number)

    async def cancel_order(self, number: str, reason: str, actor: str) -> Order:
        answer = await self._call("POST", _order_path(number, "cancel"), {"reason": reason, "actor": actor})
        return _result(answer, Order.from_dict, number)

    async def change_shipping_address(self, number: str, address: str, actor: str) -> Order:
        body = {"address": address, "actor": actor}
        answer = await self._call("PUT", _order_path(number, "shipping-address"), body)
        return _result(answer, Order.from_dict, number)

    async def request_refund(self, number: str, reason: str, actor: str, amount: Decimal | None = None) -> Refund:
        body = {"reason": reason, "actor": actor, "amount": None if amount is None else str(amount)}
        answer = await self._call("POST", _order_path(number, "refunds"), body)
        return _result(answer, refund_from_dict, number)

    async def refund_quote(self, number: str) -> Decimal:
        answer = await self._call("GET", _order_path(number, "refund-quote"))
        return _result(answer, lambda data: Decimal(str(data["amount"])), number)

    async def refunds_for(self, number: str) -> list[Refund]:
        answer = await self._call("GET", _order_path(number, "refunds"))
        return _result(answer, lambda data: [refund_from_dict(r) for r in data["refunds"]], number)

    async def get_invoice(self, number: str) -> Invoice | None:
        answer = await self._call("GET", _order_path(number, "invoice"))
        if answer.response.status_code == 404:
            if _error_code(answer.response) == "no_order":
                raise OrderNotFound(number)
            return None
        return _result(answer, invoice_from_dict, number)

    async def find_invoice(self, invoice_number: str) -> Invoice | None:
        if not invoice_number:
            return None
        answer = await self._call("GET", f"/invoices/{_segment(invoice_number)}", log_path="/invoices/<number>")
        if answer.response.status_code == 404:
            return None
        return _result(answer, invoice_from_dict, None)

    async def set_newsletter(self, email: str, subscribed: bool) -> None:
        if not email.strip():
            raise ActionRefused("invalid_email", "The email address is empty.")
        path = f"/newsletter/{_segment(email)}"
        answer = await self._call("PUT", path, {"subscribed": subscribed}, log_path="/newsletter/<email>")
        if not answer.response.is_success:
            _raise_for(answer, None)

    async def add_review(self, rating: int, text: str, customer_id: str | None, order_number: str | None) -> str:
        body = {"rating": rating, "text": text, "customer_id": customer_id, "order_number": order_number}
        answer = await self._call("POST", "/reviews", body)
        return _result(answer, lambda data: _non_empty(data["id"]), order_number)

    async def issue_voucher(self, customer_id: str, amount: Decimal, currency: str, reason: str, actor: str) -> Voucher:
        body = {"amount": str(amount), "currency": currency, "reason": reason, "actor": actor}
        answer = await self._call("POST", f"/customers/{_segment(customer_id)}/vouchers", body)
        return _result(answer, voucher_from_dict, None)

    async def vouchers_for(self, customer_id: str) -> list[Voucher]:
        answer = await self._call(
            "GET", f"/customers/{_segment(customer_id)}/vouchers", log_path="/customers/<id>/vouchers"
        )
        return _result(answer, lambda data: [voucher_from_dict(v) for v in data["vouchers"]], None)

    async def ping(self) -> None:
        answer = await self._call("GET", "/health")
        if not answer.response.is_success:
            raise OrderSystemUnavailable(f"shop API answered HTTP {answer.response.status_code} to {answer.where}")

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, log_path: str | None = None
    ) -> _Answer:
        """Send one request and retry once when the failure is likely to pass.

        The idempotency key is made once per call, so the shop recognises the retry of a change it
        already applied (its response was lost) instead of applying it twice.

        Args:
            method: HTTP method.
            path: Path below the base URL, with every value already encoded by `_segment`.
            body: JSON body, if any.
            log_path: What logs and messages show instead of `path` when the path holds personal data.
        """
        where = f"{method} {log_path or path}"
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method in MUTATING_METHODS else {}
        problem, last_error = "", None
        for attempt in (1, 2):
            if attempt == 2:
                logger.warning("shop API %s failed (%s); retrying once", where, problem)
                await asyncio.sleep(self._retry_backoff)
            started = time.perf_counter()
            try:
                response = await self._client.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                problem = "timed out" if isinstance(exc, httpx.TimeoutException) else "could not reach it"
                problem, last_error = f"{problem} ({exc.__class__.__name__})", exc
                _log_request(where, exc.__class__.__name__, started)
                continue
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise OrderSystemUnavailable(f"shop API {where} failed: {exc.__class__.__name__}") from exc
            _log_request(where, response.status_code, started)
            if response.status_code in AUTH_STATUSES:
                raise OrderSystemUnavailable(self._auth_problem(response.status_code))
            if response.status_code not in RETRY_STATUSES:
                return _Answer(response, where)
            problem = f"HTTP {response.status_code}"
        raise OrderSystemUnavailable(f"shop API {where} failed twice, last: {problem}") from last_error

    def _auth_problem(self, status: int) -> str:
        if not self._has_key:
            return f"shop API refused access (HTTP {status}): SHOP_API_KEY is not set"
        return f"shop API refused access (HTTP {status}): SHOP_API_KEY is wrong or lacks permission"


class _Answer(NamedTuple):
    """A final response and how to name its request in messages (`where`, without personal data)."""

    response: httpx.Response
    where: str


def _result(answer: _Answer, parse: Callable[[Any], T], number: str | None) -> T:
    """The record a successful response holds; otherwise the exception its status means."""
    if not answer.response.is_success:
        _raise_for(answer, number)
    try:
        return parse(_json_object(answer.response))
    except MALFORMED as exc:
        raise OrderSystemUnavailable(
            f"shop API sent a malformed answer to {answer.where} ({exc.__class__.__name__})"
        ) from None


def _raise_for(answer: _Answer, number: str | None) -> NoReturn:
    """Raise what an unsuccessful final response means; `number` turns a 404 into `OrderNotFound`."""
    status = answer.response.status_code
    if status == 404 and number is not None:
        raise OrderNotFound(number)
    if status in REFUSAL_STATUSES:
        raise _refusal(answer)
    raise OrderSystemUnavailable(f"shop API answered HTTP {status} to {answer.where}")


def _order_path(number: str, *rest: str) -> str:
    """The route of one order; an empty number names no order and would otherwise hit another route."""
    if not number:
        raise OrderNotFound(number)
    return "/".join(("/orders", _segment(number), *rest))


def _segment(value: str) -> str:
    """`value` as exactly one path segment, whatever it contains, so it cannot change the route."""
    encoded = quote(value, safe="")
    if encoded in {".", ".."}:
        return encoded.replace(".", "%2E")
    return encoded


def _json_object(response: httpx.Response) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise TypeError("the body is not a JSON object")
    return data


def _non_empty(value: Any) -> str:
    if value is None or str(value) == "":
        raise ValueError("empty value")
    return str(value)


def _error_code(response: httpx.Response) -> str | None:
    """The `error.code` of a refusal body, or None when the body has none."""
    try:
        code = _json_object(response)["error"]["code"]
    except MALFORMED:
        return None
    return code if isinstance(code, str) and code else None


def _refusal(answer: _Answer) -> OrderSystemError:
    """`ActionRefused` from a 409/422 body; a refusal without a code is a broken shop, not a rule."""
    code = _error_code(answer.response)
    if code is None:
        return OrderSystemUnavailable(
            f"shop API answered HTTP {answer.response.status_code} without an error code to {answer.where}"
        )
    message = _json_object(answer.response)["error"].get("message")
    return ActionRefused(code, message if isinstance(message, str) and message else code.replace("_", " "))


def _log_request(where: str, outcome: object, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.debug("shop API %s -> %s in %.0f ms", where, outcome, elapsed_ms)
