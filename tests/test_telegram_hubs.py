"""Telegram with several hubs: exactly one polls, any serves the webhook, and each message reaches a chat once and
in order, sent by whichever hub holds the chat's delivery lease.

Two hubs run in this process as two would on two machines: each its own `Hub`, SQL engine, fake Rasa and
`TelegramChannel`, sharing a fresh PostgreSQL database, real Redis leases (`RedisLeases` under a prefix of the
test's own) and one `EventBus`, which stands in for the shared bus (every hub sees every event). Telegram is the
Bot API double at the wire. A hub "dies" by its leases going dead (`MortalLeases`: nothing renewed, nothing
released, so they lapse in Redis as a crashed process's would) and, for the poller, by hanging mid-batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.engine import Engine
from telegram import Update

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.delivery import chat_lease
from bot.channels.telegram.polling import POLLING_LEASE
from bot.core.events import EventBus, conversation_topic
from bot.core.hub import Hub
from bot.core.leases import Lease, RedisLeases
from bot.core.rasa_client import RasaClient
from bot.core.runtime import LeaseConversationLocks
from bot.store import schema as t
from bot.store.agents import AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from bot.store.deliveries import DeliveryLog
from bot.store.records import Conversation
from tests.inprocess import FakeRasa, hub_settings, says
from tests.postgres import fresh_postgres_database
from tests.shared_redis import redis_clients
from tests.telegram_api import TelegramApiServer, make_user

LEASE_SECONDS = 1.0
"""The delivery and polling leases of these hubs: short, so a dead hub's are taken over quickly."""


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """One PostgreSQL database for the module's tests; each test has chats of its own."""
    with fresh_postgres_database() as url:
        engine = create_engine(url)
        t.create_schema(engine)
        engine.dispose()
        yield url


class MortalLeases:
    """A hub's `RedisLeases` that die with it: once `dead`, nothing is taken, renewed or released any more, so what
    it held lapses in Redis after its term, as a crashed process's leases do."""

    def __init__(self, leases: RedisLeases) -> None:
        self._leases = leases
        self.dead = False
        self.asked: list[str] = []
        self.taken: list[str] = []
        self.holding: set[str] = set()

    async def try_acquire(self, name: str, seconds: float) -> Lease | None:
        if self.dead:
            return None
        self.asked.append(name)
        lease = await self._leases.try_acquire(name, seconds)
        if lease is None:
            return None
        self.taken.append(name)
        self.holding.add(name)
        return _MortalLease(lease, self)

    def hold(self, name: str, seconds: float) -> contextlib.AbstractAsyncContextManager[Lease]:
        return self._leases.hold(name, seconds)


class _MortalLease:
    def __init__(self, lease: Lease, owner: MortalLeases) -> None:
        self.name = lease.name
        self._lease = lease
        self._owner = owner

    async def renew(self) -> bool:
        return not self._owner.dead and await self._lease.renew()

    async def release(self) -> None:
        if not self._owner.dead:
            self._owner.holding.discard(self.name)
            await self._lease.release()


@dataclasses.dataclass
class RunningHub:
    """One of the hubs: its parts, and the updates its channel handled (in order)."""

    name: str
    hub: Hub
    rasa: FakeRasa
    leases: MortalLeases
    channel: TelegramChannel
    engine: Engine
    handled: list[int] = dataclasses.field(default_factory=list)
    hang_after: int | None = None
    """Hang (the process stops answering) once this many updates were handled: dies mid-batch."""
    hung: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    @property
    def polling(self) -> bool:
        return self.channel.polling is not None and self.channel.polling.polling

    async def die(self) -> None:
        """Crash: its leases are left to lapse and nothing more is confirmed to Telegram or sent."""
        self.leases.dead = True
        await self.channel.stop()


def echo(sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    return [says(f"re: {text}")]


@contextlib.asynccontextmanager
async def two_hubs(api: TelegramApiServer, database_url: str, mode: str = "polling") -> AsyncIterator[list[RunningHub]]:
    """Two hubs sharing the database, Redis leases and the bus, each with its Telegram channel started."""
    bus = EventBus()
    env = {
        "DATABASE_URL": database_url,
        "TELEGRAM_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "TELEGRAM_MODE": mode,
        "TELEGRAM_POLL_TIMEOUT": "1",
    }
    if mode == "webhook":
        env["TELEGRAM_WEBHOOK_URL"] = "https://shop.example"
    async with redis_clients(2) as (prefix, clients):
        hubs = [_hub(name, env, bus, client, prefix) for name, client in zip("AB", clients, strict=True)]
        try:
            for running in hubs:
                await running.channel.start()
                assert running.channel.running
            yield hubs
        finally:
            for running in hubs:
                await running.channel.stop()
                await running.hub.drain(timeout=5)
                running.engine.dispose()


def _hub(name: str, env: dict[str, str], bus: EventBus, redis: Redis, prefix: str) -> RunningHub:
    settings = hub_settings(Path("unused.db"), **env)
    engine = create_engine(settings.database_url)
    leases = MortalLeases(RedisLeases(redis, prefix))
    rasa = FakeRasa(responder=echo)
    hub = Hub(
        settings,
        ConversationStore(engine),
        AgentStore(engine),
        cast(RasaClient, rasa),
        bus,
        locks=LeaseConversationLocks(leases),
        leases=leases,
    )
    channel = TelegramChannel(
        hub,
        settings.telegram,
        DeliveryLog(engine, "telegram"),
        lease_seconds=LEASE_SECONDS,
        polling_lease_seconds=LEASE_SECONDS,
    )
    running = RunningHub(name, hub, rasa, leases, channel, engine)
    handle = channel.handle

    async def handle_or_hang(update: Update) -> None:
        await handle(update)
        running.handled.append(update.update_id)
        if running.hang_after is not None and len(running.handled) >= running.hang_after:
            await hub.drain()  # what it started reaching the bot finishes, and the answer reaches the chat
            await settled(channel)  # (a send cut short by the crash is the documented window, not tested here)
            running.hung.set()
            await asyncio.Event().wait()

    channel.handle = handle_or_hang  # type: ignore[method-assign]
    return running


async def settled(channel: TelegramChannel) -> None:
    """Until the channel has handled every event it was given and sent what they woke."""
    while True:
        await until(lambda: channel.followers.idle, what="the events handled")
        await channel.delivery.idle()
        if channel.followers.idle:
            return


async def until(
    check: Callable[[], Any], timeout: float = 15.0, what: str = "the condition", seen: Callable[[], Any] = str
) -> None:
    """Wait until `check()`; on timeout the error shows `seen()` (what there was instead)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; seen: {seen()}")
        await asyncio.sleep(0.02)


def stored_texts(engine: Engine, chat_id: int) -> list[str]:
    """What the customer of this chat wrote, as stored, oldest first."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(t.messages.c.text)
                .join(t.conversations, t.conversations.c.id == t.messages.c.conversation_id)
                .join(t.customers, t.customers.c.id == t.conversations.c.customer_id)
                .where(
                    t.customers.c.channel == "telegram",
                    t.customers.c.external_id == str(chat_id),
                    t.messages.c.sender == "customer",
                )
                .order_by(t.messages.c.id)
            ).scalars()
        )


async def conversation_of(running: RunningHub, chat_id: int) -> Conversation:
    customer = await running.hub.conversations.customer("telegram", str(chat_id))
    return await running.hub.conversations.current_conversation(customer)


def fetched(api: TelegramApiServer) -> list[int]:
    """The update ids getUpdates handed out, every time it did."""
    return [update["update_id"] for call in api.calls("getUpdates") if call.status == 200 for update in call.result]


def test_one_hub_polls_and_when_it_dies_mid_batch_the_other_takes_over_losing_and_doubling_nothing(database_url):
    user = make_user(7710001, first_name="Ana")
    texts = [f"question {n}" for n in range(1, 9)]

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=0.5) as api:
            async with two_hubs(api, database_url) as hubs:
                await until(lambda: any(h.polling for h in hubs), what="a hub polling")
                await asyncio.sleep(3 * LEASE_SECONDS)  # three lease terms: long enough for a second poller to show
                poller, standby = sorted(hubs, key=lambda h: not h.polling)
                assert poller.polling and not standby.polling
                assert POLLING_LEASE not in standby.leases.taken
                assert all(call.status != 409 for call in api.calls("getUpdates"))

                poller.hang_after = 3
                pushed = [api.push_update(api.text_update(text, user=user)) for text in texts]
                await asyncio.wait_for(poller.hung.wait(), 15)
                await poller.die()

                await until(lambda: standby.polling, what="the standing-by hub to take over")
                await until(lambda: stored_texts(poller.engine, user["id"]) == texts, what="every update stored")
                await until(lambda: api.pending_updates == [], what="every update confirmed")
                await until(
                    lambda: len(api.sent_texts(user["id"])) >= len(texts),
                    what="every answer sent",
                    seen=lambda: (api.sent_texts(user["id"]), poller.rasa.texts(), standby.rasa.texts()),
                )
                await standby.hub.drain()
                await standby.channel.delivery.idle()

                hung_on = poller.handled[-1]
                assert fetched(api).count(hung_on) == 2  # not confirmed by the dead hub: Telegram sent it again
                assert hung_on in standby.handled
                assert sorted(set(poller.handled) | set(standby.handled)) == [u["update_id"] for u in pushed]
                assert poller.rasa.texts() + standby.rasa.texts() == texts  # each reached the bot once, in order
                assert api.sent_texts(user["id"]) == [f"re: {text}" for text in texts]

    asyncio.run(main())


def test_a_burst_to_one_chat_is_sent_once_and_in_order_although_both_hubs_see_every_event(database_url):
    user = make_user(7710002, first_name="Bo")
    burst = [f"update {n}" for n in range(30)]

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=0.5) as api:
            async with two_hubs(api, database_url) as hubs:
                api.push_update(api.text_update("hello", user=user))
                await until(lambda: api.sent_texts(user["id"]) == ["re: hello"], what="the answer to hello")
                conversation = await conversation_of(hubs[0], user["id"])
                await until(lambda: all(conversation.id in h.channel.followers.following for h in hubs))

                for n, text in enumerate(burst):
                    await hubs[n % 2].hub.say(conversation, "agent" if n % 3 == 0 else "bot", text)
                await until(lambda: len(api.sent_texts(user["id"])) >= 1 + len(burst), what="the burst sent")
                for running in hubs:
                    await running.channel.delivery.idle()

                assert api.sent_texts(user["id"]) == ["re: hello", *burst]
                assert all(chat_lease(conversation.id) in h.leases.asked for h in hubs)  # both saw the events and tried

    asyncio.run(main())


def test_a_delivery_lease_lapsing_mid_burst_hands_over_without_a_duplicate_or_a_gap(database_url):
    user = make_user(7710003, first_name="Cy")
    burst = [f"step {n}" for n in range(20)]

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=0.5) as api:
            async with two_hubs(api, database_url) as hubs:
                api.push_update(api.text_update("hi", user=user))
                await until(lambda: api.sent_texts(user["id"]) == ["re: hi"], what="the answer to hi")
                conversation = await conversation_of(hubs[0], user["id"])
                lease = chat_lease(conversation.id)
                await until(lambda: all(conversation.id in h.channel.followers.following for h in hubs))

                api.delay_next("sendMessage", 0.1, times=len(burst))  # a slow Telegram: the burst takes seconds
                for text in burst:
                    await hubs[0].hub.say(conversation, "bot", text)
                await until(lambda: len(api.sent_texts(user["id"])) >= 6, what="the burst under way")
                [holder] = [h for h in hubs if lease in h.leases.holding]
                [other] = [h for h in hubs if h is not holder]
                taken_before = other.leases.taken.count(lease)
                holder.leases.dead = True  # stalls: its lease is no longer renewed and lapses mid-burst
                sent_when_lapsing = len(api.sent_texts(user["id"]))

                await until(lambda: len(api.sent_texts(user["id"])) >= 1 + len(burst), what="the rest of the burst")
                await other.channel.delivery.idle()

                assert sent_when_lapsing < 1 + len(burst)
                assert other.leases.taken.count(lease) > taken_before
                assert api.sent_texts(user["id"]) == ["re: hi", *burst]

    asyncio.run(main())


def test_the_webhook_is_served_by_either_hub_and_an_update_retried_on_the_other_is_stored_once(database_url):
    user = make_user(7710004, first_name="Di")
    texts = [f"line {n}" for n in range(6)]

    async def main() -> None:
        with TelegramApiServer() as api:
            async with two_hubs(api, database_url, mode="webhook") as hubs:
                await until(lambda: len(api.calls("setWebhook")) == 2, what="both hubs registering the webhook")
                updates = [api.text_update(text, user=user) for text in texts]
                for n, update in enumerate(updates):
                    if n == 3:  # Telegram timed out on one hub and retries on the other while the first still works
                        await asyncio.gather(*(h.channel.process(update) for h in hubs))
                    else:
                        await hubs[n % 2].channel.process(update)
                    await asyncio.gather(*(h.hub.drain() for h in hubs))
                await until(lambda: len(api.sent_texts(user["id"])) >= len(texts), what="every answer sent")
                for running in hubs:
                    await running.channel.delivery.idle()

                assert stored_texts(hubs[0].engine, user["id"]) == texts
                assert sorted(hubs[0].rasa.texts() + hubs[1].rasa.texts()) == sorted(texts)  # each once
                assert api.sent_texts(user["id"]) == [f"re: {text}" for text in texts]
                assert api.calls("getUpdates") == []
                assert {call.params["url"] for call in api.calls("setWebhook")} == {
                    "https://shop.example/telegram/webhook"
                }

    asyncio.run(main())


def test_a_change_of_place_in_line_is_told_once_although_every_hub_sees_it(database_url):
    user = make_user(7710005, first_name="Ed")

    def in_line(conversation_id: str, position: int) -> dict[str, Any]:
        queue = {"position": position, "agents_online": 1, "open_now": True, "estimated_wait_seconds": 240}
        return {"type": "state", "conversation_id": conversation_id, "state": "queued", "queue": queue}

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=0.5) as api:
            async with two_hubs(api, database_url) as hubs:
                api.push_update(api.text_update("hello", user=user))
                await until(lambda: api.sent_texts(user["id"]) == ["re: hello"], what="the answer to hello")
                conversation = await conversation_of(hubs[0], user["id"])
                await until(lambda: all(conversation.id in h.channel.followers.following for h in hubs))

                for position in (3, 3, 1):
                    event = in_line(conversation.id, position)
                    await hubs[position % 2].hub.bus.publish(conversation_topic(conversation.id), event)
                    await until(lambda: all(h.channel.followers.idle for h in hubs), what="the event handled")
                    for running in hubs:
                        await running.channel.delivery.idle()

                assert api.sent_texts(user["id"]) == [
                    "re: hello",
                    "You're number 3 in line for a person from our team. The wait is about 4 minutes. "
                    "You can keep writing here meanwhile.",
                    "You're next in line. A person from our team will be with you shortly.",
                ]

    asyncio.run(main())
