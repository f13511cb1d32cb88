"""A model reload as a job: Rasa can take a minute to load a model, longer than an HTTP request should wait.

`POST /api/model/reload` starts the job and answers 202 at once; `GET /api/model/reload` says how it went.
One reload at a time, and only of a model in the project's models/ directory: the path goes to the Rasa
server, which would otherwise read any file it is shown. Every reload ends, `done` or `failed` with the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from bot.core.hub import Hub
from bot.domain.errors import FrontlineError
from bot.store.schema import utcnow

logger = logging.getLogger(__name__)


class ReloadRunning(FrontlineError):
    """A reload is already under way."""

    status = 409
    code = "reload_running"


class ModelOutsideModels(FrontlineError):
    """The model file asked for is not a trained model inside the project's models/ directory."""

    status = 422
    code = "model_outside_models"


def confined_model(requested: str, base: Path, models_dir: Path) -> Path:
    """`requested` (relative to `base`) as the real path of a `.tar.gz` file inside `models_dir`, symlinks
    resolved; `ModelOutsideModels` for anything else (`../`, another directory, not a file, not a model)."""
    models = models_dir.resolve()
    refusal = f"model_file must be a .tar.gz file inside {models}; {requested!r} is not"
    try:
        path = (base / requested).resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelOutsideModels(refusal) from exc
    if not path.is_relative_to(models) or not path.name.endswith(".tar.gz"):
        raise ModelOutsideModels(refusal)
    if not path.is_file():
        raise ModelOutsideModels(f"No trained model at {path}; run `make train` first.", code="no_model")
    return path


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
        """Whatever happens, the reload ends as `done` or `failed` (the bot gate re-opens in `Hub.reload_model`)."""
        try:
            name, paused = await self._hub.reload_model(model_file)
        except asyncio.CancelledError:
            self._failed(model_file, "the hub stopped before Rasa had loaded the model")
            raise
        except Exception as exc:  # any failure must end the reload, not leave it "loading" forever
            self._failed(model_file, self._reason(exc))
        else:
            self.status.state, self.status.model, self.status.paused_seconds = "done", name, round(paused, 2)
            self.status.finished_at = utcnow()

    def _failed(self, model_file: str, reason: str) -> None:
        logger.error("model reload of %s failed: %s", model_file, reason)
        self.status.state, self.status.error, self.status.finished_at = "failed", reason, utcnow()

    def _reason(self, exc: Exception) -> str:
        """What went wrong, for the trainer: Rasa's own answer when it gave one; never a URL (it carries the token)."""
        # The Rasa client's errors say what Rasa answered, or that it did not.
        reason = exc.message if isinstance(exc, FrontlineError) else f"{exc.__class__.__name__}: {exc}"
        token = self._hub.settings.rasa_token
        return reason.replace(token, "***") if token else reason
