"""Getting the hub's messages into Telegram chats: in order, cut to Telegram's limit, retried until sent.

Telegram has no socket to push to, so delivery is driven by a cursor per conversation (`DeliveryLog`): every
bot, agent and system message after the cursor is sent, and the cursor moves only once Telegram has accepted
the message. Events on the bus only wake the sender; after a restart the hub sends what it still owes. With
several hubs, the one holding the chat's lease sends (`TelegramDelivery`).
Text goes out plain (no parse mode), so `<`, `*` or `_` in what customers and agents write never breaks a
message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.channels.telegram.polling import failure
from bot.core.leases import Lease, Leases, LocalLeases
from bot.domain.errors import FrontlineError
from bot.store.conversations import ConversationStore
from bot.store.deliveries import DeliveryLog
from bot.store.records import Message

logger = logging.getLogger(__name__)

T = TypeVar("T")

MESSAGE_LIMIT = 4096
"""Telegram's longest message, in UTF-16 code units."""
BUTTON_PREFIX = "b"
BUTTON_DATA = re.compile(rf"{BUTTON_PREFIX}:([0-9]{{1,19}}):([0-9]{{1,5}})")
PAGE = 500
IDLE_SECONDS = 300.0
"""A chat's sender stops after this long without work; the next event starts it again."""
LEASE_SECONDS = 10.0
"""A chat's delivery lease lasts this long unless renewed: a dead hub's chats wait at most this for another hub."""
RETRY_SECONDS = 0.5
"""How soon a hub that found a chat's lease taken looks again (the holder may have missed the newest message)."""


class Undeliverable(FrontlineError):
    """Telegram refused the message for good (chat gone, bot blocked): retrying cannot help."""

    status = 502
    code = "undeliverable"


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` units, cut after a paragraph, line, sentence or word where there is one."""
    text = text.strip()
    pieces: list[str] = []
    while utf16_length(text) > limit:
        window = _longest_prefix(text, limit)
        cut = len(window)
        for separator in ("\n\n", "\n", ". ", "! ", "? ", " "):
            at = window.rfind(separator)
            if at >= len(window) // 2:
                cut = at + len(separator)
                break
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _longest_prefix(text: str, limit: int) -> str:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def button_data(message_id: int, index: int) -> str:
    """Callback data of a stored message's button: short and fixed (Telegram allows 64 bytes), whatever the
    payload; the tap is resolved against the stored message, so a customer cannot forge a payload."""
    return f"{BUTTON_PREFIX}:{message_id}:{index}"


def parse_button_data(data: str) -> tuple[int, int] | None:
    match = BUTTON_DATA.fullmatch(data)
    return (int(match.group(1)), int(match.group(2))) if match else None


RATING_ROW = 6
"""Scores per keyboard row: five stars fit one row; NPS's 0-10 take two (Telegram shows at most 8 a row)."""


def keyboard_for(message: Message) -> InlineKeyboardMarkup | None:
    """The message's buttons as an inline keyboard; scores side by side, other choices one per row."""
    buttons = (message.payload or {}).get("buttons") or []
    keys = [
        InlineKeyboardButton(str(b.get("title") or b.get("payload"))[:64], callback_data=button_data(message.id, i))
        for i, b in enumerate(buttons)
        if isinstance(b, dict) and (b.get("title") or b.get("payload"))
    ]
    if not keys:
        return None
    if (message.payload or {}).get("rating_request"):
        return InlineKeyboardMarkup([keys[i : i + RATING_ROW] for i in range(0, len(keys), RATING_ROW)])
    return InlineKeyboardMarkup([[key] for key in keys])


@dataclasses.dataclass(frozen=True)
class QueueNotice:
    """What a queued customer was last told about their place in line."""

    position: int
    wait_minutes: int | None

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "wait_minutes": self.wait_minutes}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> QueueNotice | None:
        if not data or not isinstance(data.get("position"), int):
            return None
        return cls(data["position"], data.get("wait_minutes"))


def queue_notice(previous: QueueNotice | None, queue: dict[str, Any]) -> tuple[QueueNotice, str] | None:
    """The line to send when a queued customer's position or wait changed enough to be worth a message.

    A chat is not a live widget: a message for every step would be noise. The customer hears when they join
    the line, when they are next, when they moved up by a third of the line (at least two places), and when
    the wait grew by five minutes or more.
    """
    position = queue.get("position")
    if not isinstance(position, int) or not queue.get("agents_online") or not queue.get("open_now", True):
        return None
    seconds = queue.get("estimated_wait_seconds")
    minutes = max(1, math.ceil(seconds / 60)) if isinstance(seconds, (int, float)) else None
    notice = QueueNotice(position, minutes)
    wait = f" The wait is about {minutes} minute{'s' if minutes != 1 else ''}." if minutes else ""
    if previous is None:
        place = "next in line" if position == 1 else f"number {position} in line"
        return notice, f"You're {place} for a person from our team.{wait} You can keep writing here meanwhile."
    if position == 1 and previous.position != 1:
        return notice, "You're next in line. A person from our team will be with you shortly."
    if previous.position - position >= max(2, math.ceil(previous.position / 3)):
        return notice, f"You've moved up: you're now number {position} in line.{wait}"
    if minutes and previous.wait_minutes and minutes - previous.wait_minutes >= 5:
        return notice, f"Sorry, it's taking longer than we thought: you're number {position} in line.{wait}"
    return None


class LeaseLost(FrontlineError):
    """The chat's delivery lease lapsed while this hub held it: another hub may be sending now, so stop."""

    status = 409
    code = "lease_lost"


def chat_lease(conversation_id: str) -> str:
    """The lease whose holder alone sends this conversation's chat its messages."""
    return f"telegram:chat:{conversation_id}"


class TelegramDelivery:
    """One sender per chat, so a chat's messages arrive in order; chats never wait for each other.

    With several hubs every hub that sees a conversation's event wakes its sender, and the senders take turns by
    the chat's lease (`chat_lease`): the holder reads the cursor from SQL, sends what follows it, renewing the
    lease before every message, and releases it once the chat is idle. A sender that finds the lease taken looks
    again shortly, since the holder may have read the cursor before the newest message, or died.

    Each message is sent once, except in one window: the holder dies (or stalls past the lease) after Telegram
    accepted a message and before the cursor moved; the next holder sends that one message again.
    """

    def __init__(
        self,
        bot: Bot,
        conversations: ConversationStore,
        deliveries: DeliveryLog,
        *,
        leases: Leases | None = None,
        lease_seconds: float = LEASE_SECONDS,
        max_backoff: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._conversations = conversations
        self._deliveries = deliveries
        self._leases: Leases = leases or LocalLeases()
        self._lease_seconds = lease_seconds
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._wake: dict[str, asyncio.Event] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._notices: dict[str, list[str]] = {}
        self._busy: set[str] = set()
        self._closed = False

    def wake(self, conversation_id: str) -> None:
        """There may be something to send to this conversation's chat."""
        if self._closed:
            return
        self._wake.setdefault(conversation_id, asyncio.Event()).set()
        sender = self._senders.get(conversation_id)
        if sender is None or sender.done():
            self._senders[conversation_id] = asyncio.create_task(self._send_loop(conversation_id))

    def notify(self, conversation_id: str, text: str) -> None:
        """A line for the customer that is not a stored message (the queue position), sent in turn by this hub."""
        self._notices.setdefault(conversation_id, []).append(text)
        self.wake(conversation_id)

    async def typing(self, chat_id: int) -> None:
        """Show "typing…" while the bot works; best effort (it lasts five seconds or until the next message)."""
        try:
            await self._bot.send_chat_action(chat_id, ChatAction.TYPING)
        except Exception as exc:  # a missing typing hint is harmless
            logger.debug("chat=%s typing action failed: %s", chat_id, exc)

    async def close(self) -> None:
        self._closed = True
        senders = list(self._senders.values())
        for sender in senders:
            sender.cancel()
        for sender in senders:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        self._senders.clear()

    async def idle(self) -> None:
        """Wait until every chat is sent what it is owed (for tests and shutdown)."""
        while any(
            not task.done() and (self._wake[cid].is_set() or cid in self._busy) for cid, task in self._senders.items()
        ):
            await asyncio.sleep(0.02)

    async def _send_loop(self, conversation_id: str) -> None:
        wake = self._wake[conversation_id]
        while True:
            try:
                await asyncio.wait_for(wake.wait(), IDLE_SECONDS)
            except asyncio.TimeoutError:
                if wake.is_set() or self._notices.get(conversation_id):
                    continue
                del self._senders[conversation_id], self._wake[conversation_id]  # every hub has every chat's sender
                self._notices.pop(conversation_id, None)
                return
            self._busy.add(conversation_id)
            wake.clear()
            try:
                await self._take_turn(conversation_id, wake)
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                logger.warning(
                    "conversation=%s telegram delivery lease lapsed; another hub carries on", conversation_id
                )
                await asyncio.sleep(self._lease_seconds / 3)
                wake.set()
            except Exception as exc:  # a database or Redis hiccup: try again after a pause
                logger.error("conversation=%s telegram delivery failed (%s); will retry", conversation_id, failure(exc))
                await self._sleep(1.0)
                wake.set()
            finally:
                self._busy.discard(conversation_id)

    async def _take_turn(self, conversation_id: str, wake: asyncio.Event) -> None:
        """Send what the chat is owed if this hub gets its lease; else look again soon."""
        lease = await self._leases.try_acquire(chat_lease(conversation_id), self._lease_seconds)
        if lease is None:
            await asyncio.sleep(min(RETRY_SECONDS, self._lease_seconds / 3))
            wake.set()
            return
        renewing = asyncio.create_task(_keep_renewed(lease, self._lease_seconds))
        try:
            while True:
                await self._flush(conversation_id, lease)
                if not wake.is_set():
                    return
                wake.clear()
        finally:
            renewing.cancel()  # not awaited: suppressing its CancelledError could swallow a cancel of this task
            with contextlib.suppress(Exception):
                await lease.release()

    async def _flush(self, conversation_id: str, lease: Lease) -> None:
        cursor = await self._deliveries.cursor(conversation_id)
        if cursor is None:
            return
        chat_id, delivered = int(cursor.address), cursor.delivered
        while page := await self._conversations.messages(conversation_id, after_id=delivered, limit=PAGE):
            for message in page:
                if message.sender != "customer":
                    if delivered < message.id - 1:
                        await self._deliveries.advance(conversation_id, message.id - 1)
                    await self._send_message(conversation_id, chat_id, message, lease)
                    await self._deliveries.advance(conversation_id, message.id)
                delivered = message.id
            await self._deliveries.advance(conversation_id, delivered)
        notices = self._notices.get(conversation_id, [])
        while notices:
            await self._deliver(conversation_id, chat_id, notices[0], None, lease)
            notices.pop(0)

    async def _send_message(self, conversation_id: str, chat_id: int, message: Message, lease: Lease) -> None:
        text = message.text
        agent_name = (message.payload or {}).get("agent_name")
        if message.sender == "agent" and agent_name:
            text = f"{agent_name}: {text}"
        keyboard = keyboard_for(message)
        if not text.strip() and keyboard is None:
            return
        await self._deliver(conversation_id, chat_id, text.strip() or "Choose one:", keyboard, lease)

    async def _deliver(
        self, conversation_id: str, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None, lease: Lease
    ) -> None:
        pieces = split_text(text)
        for number, piece in enumerate(pieces, start=1):
            markup = keyboard if number == len(pieces) else None
            try:
                await self._retrying(
                    conversation_id,
                    lease,
                    functools.partial(self._bot.send_message, chat_id, piece, reply_markup=markup),
                )
            except Undeliverable as exc:
                logger.error("conversation=%s chat=%s message cannot be delivered: %s", conversation_id, chat_id, exc)
                return

    async def _retrying(self, conversation_id: str, lease: Lease, call: Callable[[], Awaitable[T]]) -> T:
        """Retry until Telegram accepts: after `retry_after` on flood control, with backoff on network errors.

        Every attempt first renews the lease: once it lapsed, another hub may be sending this very message.
        """
        backoff = 1.0
        attempt = 0
        while True:
            attempt += 1
            if not await lease.renew():
                raise LeaseLost(f"the delivery lease of conversation {conversation_id} lapsed")
            try:
                return await call()
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                logger.warning("conversation=%s telegram flood control: retrying in %.1f s", conversation_id, wait)
                await self._sleep(wait)
            except (BadRequest, Forbidden, InvalidToken, ChatMigrated) as exc:
                raise Undeliverable(str(exc)) from exc
            except NetworkError as exc:
                logger.warning(
                    "conversation=%s telegram unreachable (attempt %d, %s); retrying in %.0f s",
                    conversation_id,
                    attempt,
                    exc,
                    backoff,
                )
                await self._sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)


async def _keep_renewed(lease: Lease, seconds: float) -> None:
    """Renew the lease while a send waits (flood control, backoff), so it stays this hub's; each send checks too."""
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            if not await lease.renew():
                return
        except Exception as exc:  # Redis unreachable: the next send's own renewal decides
            logger.warning("lease %s could not be renewed: %s", lease.name, type(exc).__name__)


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
