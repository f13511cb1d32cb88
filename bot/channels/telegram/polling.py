"""The getUpdates loop: long polling that confirms an update to Telegram only once the hub has stored it.

Telegram forgets every update below the `offset` of the next getUpdates call. python-telegram-bot's `Updater`
moves the offset as soon as it has fetched a batch, so an update the hub then failed to store (SQLite's
"database is locked", say) was lost for good. Here the updates of a batch are handled one by one, in order, and
the offset moves past an update only after the channel's handler returned for it; a failing update is retried
with backoff, never skipped, and the ones behind it wait. What was stored but not yet confirmed when the hub died
comes again after a restart; the channel stores it once (the update's id is the message's client id).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError

logger = logging.getLogger(__name__)

Handler = Callable[[Update], Awaitable[None]]

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
CONFIRM_SECONDS = 1.0
"""How long `stop` spends telling Telegram which updates are done, so a restart is not sent them again."""


class Backoff:
    """Waits that double from `first` up to `most`; each retried call has its own."""

    def __init__(self, first: float = FIRST_BACKOFF, most: float = MAX_BACKOFF) -> None:
        self.first = first
        self.most = most
        self.next = first

    def take(self) -> float:
        wait = self.next
        self.next = min(self.next * 2, self.most)
        return wait


class UpdatePoller:
    """Fetches updates with getUpdates and hands each to `handle`; the offset passes an update once it is handled."""

    def __init__(
        self,
        bot: Bot,
        handle: Handler,
        *,
        timeout: int,
        allowed_updates: Sequence[str],
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._task: asyncio.Task[None] | None = None
        self.offset: int | None = None
        """The next getUpdates offset: one past the last update the handler took, None before the first."""
        self._confirmed: int | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """End the loop at once (a long poll in flight is cancelled), then confirm what was handled."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if self.offset is not None and self.offset != self._confirmed:
            try:
                await asyncio.wait_for(self._confirm(), CONFIRM_SECONDS)
            except (asyncio.TimeoutError, TelegramError) as exc:
                logger.info("Telegram polling: handled updates up to %s not confirmed (%s); they will come again",
                            self.offset - 1, type(exc).__name__)  # fmt: skip

    async def _run(self) -> None:
        await self._remove_webhook()
        while True:
            for update in await self._fetch():
                await self._take(update)
                self.offset = update.update_id + 1

    async def _remove_webhook(self) -> None:
        """getUpdates answers 409 while a webhook is set (one left over from webhook mode, say)."""
        backoff = Backoff()
        while True:
            try:
                await self._bot.delete_webhook()
                return
            except RetryAfter as exc:
                await self._flood_wait(exc)
            except TelegramError as exc:
                wait = backoff.take()
                logger.warning("Telegram polling: deleteWebhook failed (%s); retrying in %.1f s", exc, wait)
                await asyncio.sleep(wait)

    async def _fetch(self) -> tuple[Update, ...]:
        """The next batch, waiting out flood control and network trouble; sending `offset` confirms the last one."""
        backoff = Backoff()
        while True:
            offset = self.offset
            try:
                updates = await self._bot.get_updates(
                    offset=offset, timeout=self._timeout, allowed_updates=self._allowed
                )
            except RetryAfter as exc:
                await self._flood_wait(exc)
                continue
            except Exception as exc:  # dropped connections, timeouts, 5xx, 409 conflicts, an unreadable batch
                wait = backoff.take()
                reason = str(exc) if isinstance(exc, TelegramError) else failure(exc)
                logger.warning("Telegram polling: getUpdates failed (%s); retrying in %.1f s", reason, wait)
                await asyncio.sleep(wait)
                continue
            self._confirmed = offset
            return updates

    async def _take(self, update: Update) -> None:
        """Hand the update over until that succeeds: a failure is retried, never skipped."""
        backoff = Backoff()
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._handle(update)
            except Exception as exc:  # whatever failed, the update is not stored yet
                wait = backoff.take()
                logger.error("Telegram update %s could not be stored (attempt %d: %s); retrying in %.1f s",
                             update.update_id, attempt, failure(exc), wait)  # fmt: skip
                await asyncio.sleep(wait)
                continue
            if attempt > 1:
                logger.info("Telegram update %s stored on attempt %d", update.update_id, attempt)
            return

    async def _flood_wait(self, exc: RetryAfter) -> None:
        retry_after = exc.retry_after
        wait = retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else float(retry_after)
        logger.warning("Telegram polling: flood control; retrying in %.1f s", wait)
        await asyncio.sleep(wait)

    async def _confirm(self) -> None:
        await self._bot.get_updates(offset=self.offset, timeout=0, limit=1, allowed_updates=self._allowed)
        self._confirmed = self.offset


def failure(exc: BaseException) -> str:
    """What went wrong, without personal data: the exception's type, a database driver's own reason (its first
    line; SQLAlchemy's message would quote the SQL's parameters, the customer's text among them) and the place in
    the hub's code."""
    described = type(exc).__name__
    reason = getattr(exc, "orig", None)
    if isinstance(reason, BaseException):
        described += f" ({str(reason).splitlines()[0][:200] if str(reason) else type(reason).__name__})"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if "/bot/" in frame.filename and "site-packages" not in frame.filename]
    if ours:
        where = ours[-1].filename
        described += f" at {where[where.rfind('/bot/') + 1 :]}:{ours[-1].lineno}"
    return described
