"""The hub's line to the Rasa server: the REST channel for messages, the HTTP API for the tracker."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import httpx
import jwt

from bot.domain.errors import FrontlineError

logger = logging.getLogger(__name__)

ADMIN_JWT_SECONDS = 60
"""Life of the token the hub signs for each call to Rasa's HTTP API: short, as it is a bearer credential."""
UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout)
"""Failures before Rasa saw the request at all."""


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
        self._token = token
        self._turn_deadline = turn_deadline or timeout
        self._client = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)))

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One customer message through the REST channel; the bot's reply items."""
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        started = time.perf_counter()
        try:
            response = await self._client.post(
                "/webhooks/rest/webhook", json=body, timeout=httpx.Timeout(self._turn_deadline, connect=2.0)
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
            raise RasaTimeout(f"{exc.__class__.__name__} after {self._turn_deadline:.0f} s") from exc
        except UNREACHABLE as exc:
            raise RasaUnreachable(f"{exc.__class__.__name__}: {exc}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
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
        try:
            response = await self._client.get(
                f"/conversations/{sender_id}/tracker", params={"include_events": "ALL"}, headers=self._auth()
            )
            response.raise_for_status()
            events = response.json().get("events") or []
        except UNREACHABLE as exc:
            raise RasaUnreachable(f"{exc.__class__.__name__}: {exc}") from exc
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise RasaUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        return replies_after(events, hub_message_id)

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        response = await self._client.post(
            f"/conversations/{sender_id}/tracker/events",
            params={"include_events": "NONE"},
            headers=self._auth(),
            json=events,
            timeout=httpx.Timeout(self._turn_deadline, connect=2.0),
        )
        response.raise_for_status()

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str:
        """Load `model_file` (a path the Rasa server can read) in place of the running model; its name after."""
        try:
            response = await self._client.put(
                "/model", headers=self._auth(), json={"model_file": model_file}, timeout=timeout
            )
        except UNREACHABLE as exc:
            raise RasaUnreachable(f"{exc.__class__.__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise RasaUnavailable(f"Rasa refused the model ({response.status_code}): {response.text[:300]}")
        return await self.model_file()

    async def model_file(self) -> str:
        response = await self._client.get("/status", headers=self._auth())
        response.raise_for_status()
        return str(response.json().get("model_file", ""))

    async def healthy(self) -> bool:
        try:
            response = await self._client.get("/status", headers=self._auth())
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        await self._client.aclose()

    def _auth(self) -> dict[str, str]:
        """The one place the API's credential is made: a header, since URLs (and so `?token=`) end up in logs."""
        return {"Authorization": f"Bearer {admin_jwt(self._token)}"}


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
