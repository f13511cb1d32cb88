"""Which Telegram conversations a hub follows, and what their events mean for the chat.

Every hub follows every Telegram conversation it learns of: at start and on every sweep from SQL, and as soon as
another hub announces one on `CHATS_TOPIC`. So whichever hub sees a conversation's event (its own or, through the
shared bus, another hub's) can deliver it, and a hub that dies leaves no chat without someone to serve it. The chat
id is always the one stored with the delivery cursor; the events only say there may be work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.channels.telegram.delivery import QueueNotice, TelegramDelivery, queue_notice
from bot.channels.telegram.polling import failure
from bot.core.events import EventBus, Subscription, conversation_topic
from bot.core.leases import Lease, Leases
from bot.store.deliveries import DeliveryLog

logger = logging.getLogger(__name__)

CHATS_TOPIC = "telegram:chats"
"""Where a hub announces a Telegram conversation it started tracking, so every hub follows it."""
SWEEP_SECONDS = 30.0
"""How often a hub looks in SQL for chats still owed a message: a lost event or a dead sender waits at most this."""
TYPING_SECONDS = 1.0
"""Every hub sees a "typing" event; the first to take this short lease shows it, the others stay quiet."""


class ChatFollowers:
    """Turns the bus's events of the followed conversations into work for `TelegramDelivery`."""

    def __init__(
        self,
        bus: EventBus,
        deliveries: DeliveryLog,
        delivery: TelegramDelivery,
        leases: Leases,
        *,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._bus = bus
        self._deliveries = deliveries
        self._delivery = delivery
        self._leases = leases
        self._sweep_seconds = sweep_seconds
        self._subscription: Subscription = bus.subscribe()
        self._chats: dict[str, int] = {}
        """Chat id by conversation, as read from SQL (a conversation's chat never changes)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._typing: set[asyncio.Task[None]] = set()
        self._handling = False

    @property
    def following(self) -> frozenset[str]:
        return frozenset(self._chats)

    @property
    def idle(self) -> bool:
        """No event waiting or being handled (for tests and shutdown)."""
        return self._subscription.queue.empty() and not self._handling

    async def start(self) -> None:
        """Follow the chats still owed something or with people, wake those owed, then keep listening."""
        self._subscription.add(CHATS_TOPIC)
        self._tasks.append(asyncio.create_task(self._forward_events()))
        await self._catch_up()
        self._tasks.append(asyncio.create_task(self._sweep_forever()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for task in list(self._typing):
            task.cancel()
        self._subscription.close()

    async def track(self, conversation_id: str, chat_id: int) -> None:
        """A customer wrote from this chat: deliver the conversation there, and tell the other hubs."""
        if conversation_id in self._chats:
            return
        await self._deliveries.track(conversation_id, str(chat_id))
        cursor = await self._deliveries.cursor(conversation_id)
        if cursor is not None:
            self._follow(conversation_id, cursor.address)
        await self._bus.publish(CHATS_TOPIC, {"type": "telegram_chat", "conversation_id": conversation_id})

    def _follow(self, conversation_id: str, address: str) -> None:
        if conversation_id not in self._chats:
            self._chats[conversation_id] = int(address)
            self._subscription.add(conversation_topic(conversation_id))

    async def _catch_up(self) -> None:
        for conversation_id, address in await self._deliveries.owed():
            self._follow(conversation_id, address)
        for conversation_id, address in await self._deliveries.behind():
            self._follow(conversation_id, address)
            self._delivery.wake(conversation_id)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                await self._catch_up()
            except Exception as exc:  # the database restarting, say: the next round tries again
                logger.warning("telegram delivery sweep failed: %s", failure(exc))

    async def _forward_events(self) -> None:
        async for event in self._subscription:
            self._handling = True
            try:
                await self._on_event(event)
            except Exception:  # one bad event must not stop delivery to every chat
                logger.exception("telegram channel could not handle event %s", event.get("type"))
            finally:
                self._handling = False

    async def _show_typing(self, conversation_id: str, chat_id: int) -> None:
        """Once per event however many hubs see it: the first takes the short lease and lets it go a moment later
        (by then the other hubs have seen the same event)."""
        lease = await self._leases.try_acquire(f"telegram:typing:{conversation_id}", TYPING_SECONDS)
        if lease is None:
            return
        await self._delivery.typing(chat_id)
        task = asyncio.create_task(_release_after(lease, TYPING_SECONDS))
        self._typing.add(task)
        task.add_done_callback(self._typing.discard)

    async def _on_event(self, event: dict[str, Any]) -> None:
        conversation_id = str(event.get("conversation_id") or (event.get("message") or {}).get("conversation_id"))
        kind = event.get("type")
        if kind == "telegram_chat":
            cursor = await self._deliveries.cursor(conversation_id)
            if cursor is not None:
                self._follow(conversation_id, cursor.address)
            return
        chat_id = self._chats.get(conversation_id)
        if chat_id is None:
            return
        if kind == "message":
            self._delivery.wake(conversation_id)
        elif kind == "typing":
            await self._show_typing(conversation_id, chat_id)
        elif kind == "state" and event.get("state") == "queued" and event.get("queue"):
            stored = await self._deliveries.queue_notice(conversation_id)
            notice = queue_notice(QueueNotice.from_json(stored), event["queue"])
            if notice is not None and await self._deliveries.replace_queue_notice(
                conversation_id, stored, notice[0].to_json()
            ):
                self._delivery.notify(conversation_id, notice[1])
        elif kind == "state":
            await self._deliveries.set_queue_notice(conversation_id, None)


async def _release_after(lease: Lease, seconds: float) -> None:
    await asyncio.sleep(seconds)
    with contextlib.suppress(Exception):
        await lease.release()
