"""A model reload as a job: Rasa can take a minute to load a model, longer than an HTTP request should wait.

`POST /api/model/reload` starts the job and answers 202 at once; `GET /api/model/reload` says how it went.
One reload at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import Any

from bot.core.hub import Hub
from bot.core.rasa_client import RasaUnavailable
from bot.domain.errors import FrontlineError
from bot.store.schema import utcnow

logger = logging.getLogger(__name__)


class ReloadRunning(FrontlineError):
    """A reload is already under way."""

    status = 409
    code = "reload_running"


@dataclasses.dataclass
class ReloadStatus:
    state: str = "idle"
    model_file: str | None = None
    model: str | None = None
    paused_seconds: float | None = None
    error: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat() + "Z" if data[key] else None
        return data


class ModelReloader:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.status = ReloadStatus()
        self._task: asyncio.Task[None] | None = None

    def start(self, model_file: str) -> ReloadStatus:
        if self._task is not None and not self._task.done():
            raise ReloadRunning(f"a reload of {self.status.model_file} is under way")
        self.status = ReloadStatus(state="loading", model_file=model_file, started_at=utcnow())
        self._task = asyncio.create_task(self._run(model_file))
        return self.status

    async def wait(self) -> ReloadStatus:
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.status

    async def _run(self, model_file: str) -> None:
        try:
            name, paused = await self._hub.reload_model(model_file)
        except RasaUnavailable as exc:
            logger.error("model reload of %s failed: %s", model_file, exc)
            self.status.state, self.status.error = "failed", str(exc)
        else:
            self.status.state, self.status.model, self.status.paused_seconds = "done", name, round(paused, 2)
        self.status.finished_at = utcnow()
