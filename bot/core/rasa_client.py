"""The hub's line to the Rasa server: the REST channel for messages, the HTTP API for the tracker.

It speaks HTTP with aiohttp, which Rasa itself installs: under the 10 x 50 load of `make bench`, py-spy gave httpx
(the hub's client before) 28% of the hub's CPU, and with 10 requests at a time httpx spent 2.0-2.4 CPU-ms on each
request to a local server, aiohttp 0.19-0.32.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Protocol

import aiohttp
import jwt

from bot.domain.errors import FrontlineError

logger = logging.getLogger(__name__)

ADMIN_JWT_SECONDS = 60
"""Life of the token the hub signs for each call to Rasa's HTTP API: short, as it is a bearer credential."""
CONNECT_SECONDS = 2.0
"""How long connecting to Rasa may take before that server counts as unreachable."""
IDLE_SECONDS = 3.0
"""How long an idle connection to Rasa is kept for the next request: less than Sanic's keep-alive (5 s), so the
hub never sends on a connection Rasa is just closing."""


class RasaUnavailable(FrontlineError):
    """Rasa did not answer in time or answered with an error; the hub hands the customer to a person."""

    status = 503
    code = "rasa_unavailable"
    public_message = "The assistant is not answering; try again shortly."


class RasaUnreachable(RasaUnavailable):
    """No connection to Rasa at all, so it never saw the request: another Rasa server may safely take it."""


class RasaTimeout(RasaUnavailable):
    """Rasa took the message but did not answer by the turn's deadline (longer than Rasa's own limit on
    actions); the hub looks in the tracker once more before it calls the turn failed."""

    code = "rasa_timeout"


class RasaApi(Protocol):
    """What the hub needs from the Rasa server; `RasaClient` speaks it over HTTP, tests give a fake."""

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...

    async def turn(self, sender_id: str, hub_message_id: int) -> list[dict[str, Any]] | None: ...

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None: ...

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str: ...

    async def model_file(self) -> str: ...

    async def healthy(self) -> bool: ...

    async def close(self) -> None: ...


class RasaClient:
    def __init__(self, url: str, token: str, timeout: float, turn_deadline: float | None = None) -> None:
        """`timeout` bounds the API calls; `turn_deadline` how long a message's request stays open. It must stay
        open for the whole turn: Rasa's web server cancels a turn whose client hung up, actions half done."""
        self._url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._turn_deadline = turn_deadline or timeout
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One customer message through the REST channel; the bot's reply items."""
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        started = time.perf_counter()
        replies = _json(await self._call("POST", "/webhooks/rest/webhook", payload=body, seconds=self._turn_deadline))
        if not isinstance(replies, list):
            raise RasaUnavailable("Rasa's REST channel answered with something other than a list")
        logger.info(
            "conversation=%s rasa replied items=%d ms=%.1f",
            sender_id,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return replies

    async def turn(self, sender_id: str, hub_message_id: int) -> list[dict[str, Any]] | None:
        """The bot's answer to one hub message, read back from the tracker; None when Rasa has no finished turn
        for it (Rasa saves the tracker when the turn is over, so a turn found here is complete)."""
        tracker = _json(
            await self._call("GET", f"/conversations/{sender_id}/tracker", params={"include_events": "ALL"}, auth=True)
        )
        events = tracker.get("events") if isinstance(tracker, dict) else None
        return replies_after(events or [], hub_message_id)

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        await self._call(
            "POST",
            f"/conversations/{sender_id}/tracker/events",
            params={"include_events": "NONE"},
            payload=events,
            auth=True,
            seconds=self._turn_deadline,
        )

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str:
        """Load `model_file` (a path the Rasa server can read) in place of the running model; its name after."""
        try:
            await self._call("PUT", "/model", payload={"model_file": model_file}, auth=True, seconds=timeout)
        except RasaRefused as exc:
            raise RasaUnavailable(f"Rasa refused the model ({exc.rasa_status}): {exc.body}") from exc
        return await self.model_file()

    async def model_file(self) -> str:
        status = _json(await self._call("GET", "/status", auth=True))
        return str(status.get("model_file", "")) if isinstance(status, dict) else ""

    async def healthy(self) -> bool:
        try:
            await self._call("GET", "/status", auth=True)
        except RasaUnavailable:
            return False
        return True

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        payload: Any = None,
        auth: bool = False,
        seconds: float | None = None,
    ) -> bytes:
        """One request to Rasa; its answer's body. Every failure is one of this module's errors, never a URL."""
        limit = aiohttp.ClientTimeout(total=seconds or self._timeout, sock_connect=CONNECT_SECONDS)
        try:
            async with self._http().request(
                method,
                self._url + path,
                params=params,
                json=payload,
                headers=self._auth() if auth else None,
                timeout=limit,
            ) as response:
                body = await response.read()
        except aiohttp.ClientConnectorError as exc:
            raise RasaUnreachable(f"cannot connect to Rasa ({exc.__class__.__name__}: {exc.strerror})") from exc
        except aiohttp.ServerTimeoutError as exc:  # without a read timeout set, only connecting raises it
            raise RasaUnreachable(f"cannot connect to Rasa (no connection after {CONNECT_SECONDS:.0f} s)") from exc
        except asyncio.TimeoutError as exc:
            raise RasaTimeout(f"Rasa did not answer {method} {path} within {limit.total:.0f} s") from exc
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"the connection to Rasa failed ({exc.__class__.__name__}: {exc})") from exc
        if response.status >= 400:
            raise RasaRefused(method, path, response.status, body.decode(errors="replace")[:300])
        return body

    def _http(self) -> aiohttp.ClientSession:
        """The connection pool, made in the event loop that uses it (a session belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            connector = aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS)
            self._session, self._session_loop = aiohttp.ClientSession(connector=connector), loop
        return self._session

    def _auth(self) -> dict[str, str]:
        """The one place the API's credential is made: a header, since URLs (and so `?token=`) end up in logs."""
        return {"Authorization": f"Bearer {admin_jwt(self._token)}"}


class RasaRefused(RasaUnavailable):
    """Rasa answered, with an HTTP error status."""

    def __init__(self, method: str, path: str, rasa_status: int, body: str) -> None:
        super().__init__(f"Rasa answered {rasa_status} to {method} {path}: {body}")
        self.rasa_status, self.body = rasa_status, body


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise RasaUnavailable(f"Rasa's answer is not JSON ({exc.__class__.__name__}: {exc})") from exc


def admin_jwt(secret: str, now: float | None = None) -> str:
    """A short-lived admin token for Rasa's HTTP API, which is started with `--jwt-secret RASA_TOKEN
    --jwt-method HS256` and no `--auth-token`, so it accepts nothing else."""
    expires = int(time.time() if now is None else now) + ADMIN_JWT_SECONDS
    payload = {"user": {"username": "frontline-hub", "role": "admin"}, "exp": expires}
    return jwt.encode(payload, secret, algorithm="HS256")


def replies_after(events: list[dict[str, Any]], hub_message_id: int) -> list[dict[str, Any]] | None:
    """The bot's utterances after the user event that carried `hub_message_id`, as the REST channel sends them."""
    replies: list[dict[str, Any]] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if replies is not None:
                break
            if (event.get("metadata") or {}).get("hub_message_id") == hub_message_id:
                replies = []
        elif kind == "bot" and replies is not None:
            data = event.get("data") or {}
            item = {key: value for key, value in data.items() if value}
            if event.get("text"):
                item["text"] = event["text"]
            replies.append(item)
    return replies
