"""The getUpdates loop: long polling that confirms an update to Telegram only once the hub has stored it.

Telegram forgets every update below the `offset` of the next getUpdates call. python-telegram-bot's `Updater`
moves the offset as soon as it has fetched a batch, so an update the hub then failed to store (SQLite's
"database is locked", say) was lost for good. Here the updates of a batch are handled one by one, in order, and
the offset moves past an update only after the channel's handler returned for it; a failing update is retried
with backoff, never skipped, and the ones behind it wait. What was stored but not yet confirmed when the hub died
comes again after a restart; the channel stores it once (the update's id is the message's client id).

With several hubs only the holder of the `telegram:polling` lease polls (`PollingTurn`); the others stand by and
one takes over once the holder's lease lapses. The offset needs no handing over: Telegram keeps it. Every update
below the last offset sent was stored before that offset was sent; the rest, stored or not, Telegram sends again
to whichever hub polls next, and the channel stores each once. So nothing is lost and nothing is stored twice.
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

from bot.core.leases import Lease, Leases

logger = logging.getLogger(__name__)

Handler = Callable[[Update], Awaitable[None]]

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
CONFIRM_SECONDS = 1.0
"""How long `stop` spends telling Telegram which updates are done, so a restart is not sent them again."""
POLLING_LEASE = "telegram:polling"
POLLING_LEASE_SECONDS = 10.0
"""How long the polling lease lasts unless renewed: updates wait at most about this long after the poller died."""


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

    async def stop(self, confirm: bool = True) -> None:
        """End the loop at once (a long poll in flight is cancelled), then confirm what was handled, unless told
        not to (another hub may be polling already: a getUpdates from here would cut its long poll short)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if confirm and self.offset is not None and self.offset != self._confirmed:
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


class PollingTurn:
    """Polls while this hub holds the polling lease, stands by while another hub does, and takes over when that
    hub's lease lapses (it died): Telegram answers one getUpdates at a time, so one hub asks."""

    def __init__(
        self, leases: Leases, make_poller: Callable[[], UpdatePoller], *, lease_seconds: float = POLLING_LEASE_SECONDS
    ) -> None:
        self._leases = leases
        self._make_poller = make_poller
        self._seconds = lease_seconds
        self._task: asyncio.Task[None] | None = None
        self._held: tuple[Lease, UpdatePoller] | None = None

    @property
    def polling(self) -> bool:
        """Whether this hub is the one polling now."""
        return self._held is not None and self._held[1].running

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="telegram-polling-turn")

    async def stop(self) -> None:
        """Stop polling; the lease is handed back (when still held) so a standing-by hub takes over at once."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._held is not None:
            lease, poller = self._held
            self._held = None
            held = await _renewed(lease)
            await poller.stop(confirm=held)
            if held:
                with contextlib.suppress(Exception):
                    await lease.release()

    async def _run(self) -> None:
        while True:
            try:
                lease = await self._leases.try_acquire(POLLING_LEASE, self._seconds)
            except Exception as exc:  # Redis unreachable: nobody can be sure who polls, so ask again later
                logger.warning("Telegram polling: the polling lease cannot be asked for (%s)", type(exc).__name__)
                lease = None
            if lease is None:
                await asyncio.sleep(self._seconds / 3)
                continue
            logger.info("Telegram polling: this hub polls now")
            poller = self._make_poller()
            self._held = (lease, poller)
            poller.start()
            while await _renewed(lease):
                await asyncio.sleep(self._seconds / 3)
            logger.warning("Telegram polling: the polling lease lapsed; this hub stops polling and stands by")
            self._held = None
            await poller.stop(confirm=False)


async def _renewed(lease: Lease) -> bool:
    """Whether the lease is still ours for another term; unsure (Redis unreachable) counts as no."""
    try:
        return await lease.renew()
    except Exception as exc:
        logger.warning("Telegram polling: the polling lease cannot be renewed (%s)", type(exc).__name__)
        return False


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
