"""The hub's line to the Rasa server: the REST channel for messages, the HTTP API for the tracker."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import httpx

from bot.domain.errors import FrontlineError

logger = logging.getLogger(__name__)


class RasaUnavailable(FrontlineError):
    """Rasa did not answer in time or answered with an error; the hub hands the customer to a person."""

    status = 503
    code = "rasa_unavailable"
    public_message = "The assistant is not answering; try again shortly."


class RasaApi(Protocol):
    """What the hub needs from the Rasa server; `RasaClient` speaks it over HTTP, tests give a fake."""

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None: ...

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str: ...

    async def model_file(self) -> str: ...

    async def healthy(self) -> bool: ...

    async def close(self) -> None: ...


class RasaClient:
    def __init__(self, url: str, token: str, timeout: float) -> None:
        self._token = token
        self._client = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)))

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One customer message through the REST channel; the bot's reply items."""
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        started = time.perf_counter()
        try:
            response = await self._client.post("/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            replies = response.json()
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

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        response = await self._client.post(
            f"/conversations/{sender_id}/tracker/events",
            params={"token": self._token, "include_events": "NONE"},
            json=events,
        )
        response.raise_for_status()

    async def replace_model(self, model_file: str, timeout: float = 600.0) -> str:
        """Load `model_file` (a path the Rasa server can read) in place of the running model; its name after."""
        try:
            response = await self._client.put(
                "/model", params={"token": self._token}, json={"model_file": model_file}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise RasaUnavailable(f"Rasa refused the model ({response.status_code}): {response.text[:300]}")
        return await self.model_file()

    async def model_file(self) -> str:
        response = await self._client.get("/status", params={"token": self._token})
        response.raise_for_status()
        return str(response.json().get("model_file", ""))

    async def healthy(self) -> bool:
        try:
            response = await self._client.get("/status", params={"token": self._token})
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        await self._client.aclose()
