"""Two hubs in one process, as two hub processes would be: one SQLite file, one Rasa (a fake), one Redis prefix,
and each hub with its own Redis connections, event bus, locks and gate (bot/core/coordination.py). What one does,
the other's clients see; the ownership rules, the claim, the reload gate and presence hold across them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from bot.core.coordination import Coordination, coordination, shared_coordination
from bot.core.events import EventBus, Subscription, conversation_topic
from bot.core.hub import Hub, NotAllowed
from bot.core.leases import LocalLeases, RedisLeases
from bot.core.rasa_client import RasaClient
from bot.core.redis_events import RedisEventBus
from bot.core.redis_gate import GATE_LEASE, RedisBotGate
from bot.core.runtime import LeaseConversationLocks, LocalBotGate, LocalConversationLocks, conversation_lease
from bot.domain.errors import ConfigurationError
from bot.store.agents import Agent, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.records import Conversation
from tests.inprocess import FakeRasa, accounts, hub_settings, prepare_database, says
from tests.shared_redis import REDIS_URL, redis_clients, unique_prefix

Event = dict[str, Any]


@dataclasses.dataclass
class TwoHubs:
    a: Hub
    b: Hub
    rasa: FakeRasa
    agents: dict[str, Agent]
    conversation: Conversation
    coordination: tuple[Coordination, Coordination]

    def listen(self, hub: Hub) -> Subscription:
        """The conversation's events as a socket on `hub` hears them."""
        return hub.bus.subscribe(conversation_topic(self.conversation.id))

    async def drained(self) -> None:
        await asyncio.gather(self.a.drain(), self.b.drain())

    async def settled(self, subscription: Subscription) -> list[Event]:
        """Once every message is routed, what reached `subscription` that it has not taken yet: a marker published
        by each hub after the rest of its events comes after them (Redis keeps one publisher's order)."""
        await self.drained()
        topic = conversation_topic(self.conversation.id)
        for hub in (self.a, self.b):
            await hub.bus.publish(topic, {"type": "marker", "hub": id(hub)})
        events, markers = [], 0
        while markers < 2:
            event = await asyncio.wait_for(subscription.get(), 5.0)
            markers += event["type"] == "marker"
            if event["type"] != "marker":
                events.append(event)
        return events

    async def queued(self, hub: Hub) -> None:
        await hub.request_person(
            self.conversation, reason="requested", priority="normal", summary="s", packet={}, source="test"
        )


def across_hubs(tmp_path: Path, story: Callable[[TwoHubs], Awaitable[None]], rasa: FakeRasa | None = None) -> None:
    async def main() -> None:
        async with two_hubs(tmp_path, rasa or FakeRasa()) as hubs:
            await story(hubs)

    asyncio.run(main())


@asynccontextmanager
async def two_hubs(tmp_path: Path, rasa: FakeRasa) -> AsyncIterator[TwoHubs]:
    database = tmp_path / "hub.db"
    async with redis_clients(2) as (prefix, clients):
        engines, hubs, shared = [], [], []
        for redis in clients:
            engine = prepare_database(database)
            pieces = shared_coordination(redis, prefix)
            await pieces.start()
            conversations = ConversationStore(engine)
            hub = Hub(
                hub_settings(database),
                conversations,
                AgentStore(engine),
                cast(RasaClient, rasa),
                pieces.bus,
                locks=pieces.locks,
                gate=pieces.gate,
                leases=pieces.leases,
            )
            engines.append(engine)
            hubs.append(hub)
            shared.append(pieces)
        conversation = await hubs[0].conversations.current_conversation(
            await hubs[0].conversations.customer("web", "browser-1")
        )
        try:
            yield TwoHubs(hubs[0], hubs[1], rasa, accounts(engines[0]), conversation, (shared[0], shared[1]))
        finally:
            for hub in hubs:
                await hub.drain()
            for pieces in shared:
                await pieces.bus.close()
            for engine in engines:
                engine.dispose()


async def until(subscription: Subscription, predicate: Callable[[Event], bool], timeout: float = 5.0) -> Event:
    """The next event of `subscription` that matches, skipping the others."""

    async def find() -> Event:
        while not predicate(event := await subscription.get()):
            continue
        return event

    return await asyncio.wait_for(find(), timeout)


def message_from(sender: str, text: str | None = None) -> Callable[[Event], bool]:
    return lambda e: (
        e["type"] == "message" and e["message"]["sender"] == sender and text in {None, e["message"]["text"]}
    )


# ---------------------------------------------------------------------------------------------- live both ways


def test_a_customer_on_a_and_an_agent_on_b_hear_each_other_and_the_bot_is_silent_while_the_agent_has_it(tmp_path):
    rasa = FakeRasa({"hello": [says("Hi! What can I do?")]})

    async def story(hubs: TwoHubs) -> None:
        customer, agent = hubs.listen(hubs.a), hubs.listen(hubs.b)
        await hubs.a.receive(hubs.conversation, "hello", "c-1")
        await until(agent, message_from("customer", "hello"))
        await until(agent, message_from("bot", "Hi! What can I do?"))
        await until(customer, message_from("bot", "Hi! What can I do?"))

        await hubs.queued(hubs.a)
        await hubs.b.claim(hubs.agents["sam"], hubs.conversation.id)
        await until(customer, lambda e: e["type"] == "state" and e["state"] == "agent")
        await hubs.b.reply(hubs.agents["sam"], hubs.conversation.id, "Sam here, how can I help?")
        await until(customer, message_from("agent", "Sam here, how can I help?"))

        await hubs.a.receive(hubs.conversation, "I need a refund", "c-2")
        await until(agent, message_from("customer", "I need a refund"))
        heard = await hubs.settled(customer)
        assert rasa.texts() == ["hello"], "the bot is not asked while the agent owns the conversation"
        assert [e["message"]["text"] for e in heard if e["type"] == "message"] == ["I need a refund"], (
            "and says nothing"
        )

    across_hubs(tmp_path, story, rasa)


def test_a_claim_race_across_the_hubs_has_one_winner(tmp_path):
    async def story(hubs: TwoHubs) -> None:
        customer = hubs.listen(hubs.a)
        await hubs.queued(hubs.a)
        results = await asyncio.gather(
            hubs.a.claim(hubs.agents["sam"], hubs.conversation.id),
            hubs.b.claim(hubs.agents["kim"], hubs.conversation.id),
            return_exceptions=True,
        )
        winners = [r for r in results if isinstance(r, Conversation)]
        assert len(winners) == 1 and sum(isinstance(r, NotAllowed) for r in results) == 1
        owner = (await hubs.b.conversations.get(hubs.conversation.id)).assigned_agent_id
        assert owner == winners[0].assigned_agent_id
        joined = [e["message"]["text"] for e in await hubs.settled(customer) if message_from("system")(e)]
        assert [text for text in joined if "has joined" in text] == [
            f"{'Sam' if winners[0].assigned_agent_id == hubs.agents['sam'].id else 'Kim'} (agent) from our team "
            "has joined the conversation."
        ], "one agent joined, once"

    across_hubs(tmp_path, story)


def test_one_conversations_messages_reach_the_bot_one_at_a_time_in_order_whichever_hub_took_them(tmp_path):
    rasa = FakeRasa()
    rasa.delay = 0.05

    async def story(hubs: TwoHubs) -> None:
        for n in range(6):
            await (hubs.a if n % 2 else hubs.b).receive(hubs.conversation, f"message {n}", f"c-{n}")
        await hubs.drained()
        assert rasa.texts() == [f"message {n}" for n in range(6)]
        assert not rasa.overlapped

    across_hubs(tmp_path, story, rasa)


def test_a_conversation_whose_hub_died_holding_its_turn_is_carried_on_by_the_other_once_the_lease_lapses(tmp_path):
    async def story(hubs: TwoHubs) -> None:
        customer = hubs.listen(hubs.b)
        dead = await hubs.a.leases.try_acquire(conversation_lease(hubs.conversation.id), 0.5)
        assert dead is not None  # hub A took the turn and died: nobody renews it
        await hubs.b.receive(hubs.conversation, "anyone there?", "c-1")
        await until(customer, message_from("bot", "I am the fake bot."))
        assert hubs.rasa.texts() == ["anyone there?"]

    across_hubs(tmp_path, story)


# ---------------------------------------------------------------------------------------------- the reload gate


def test_a_reload_started_on_a_pauses_bs_calls_to_rasa_until_it_ends(tmp_path):
    rasa = FakeRasa()
    rasa.reload_gate = asyncio.Event()

    async def story(hubs: TwoHubs) -> None:
        customer = hubs.listen(hubs.b)
        reload = asyncio.create_task(hubs.a.reload_model("models/new.tar.gz"))
        while not rasa.reloads:  # the gate is closed once the reload reaches Rasa
            await asyncio.sleep(0.01)
        await hubs.b.receive(hubs.conversation, "hello", "c-1")
        await until(customer, lambda e: e["type"] == "typing")  # B's router is at the gate now
        await asyncio.sleep(0.3)
        assert rasa.texts() == [], "B does not call Rasa while A reloads it"
        rasa.reload_gate.set()
        assert (await reload)[0] == "new.tar.gz"
        await until(customer, message_from("bot"))
        assert rasa.texts() == ["hello"]

    across_hubs(tmp_path, story, rasa)


def test_a_reload_on_a_waits_until_bs_call_in_flight_has_ended(tmp_path):
    answer = asyncio.Event()
    at_rasa = asyncio.Event()

    async def slow(_sender: str, _text: str, _metadata: dict[str, Any]) -> list[dict[str, Any]]:
        at_rasa.set()
        await answer.wait()
        return [says("Finally.")]

    rasa = FakeRasa(responder=slow)

    async def story(hubs: TwoHubs) -> None:
        await hubs.b.receive(hubs.conversation, "hello", "c-1")
        await asyncio.wait_for(at_rasa.wait(), 5)
        reload = asyncio.create_task(hubs.a.reload_model("models/new.tar.gz"))
        try:
            await asyncio.sleep(0.3)
            assert rasa.reloads == [] and not reload.done(), "the model is not swapped under B's turn"
        finally:
            answer.set()
        await asyncio.wait_for(reload, 5)
        assert rasa.reloads == ["models/new.tar.gz"]

    across_hubs(tmp_path, story, rasa)


def test_a_dead_closers_gate_opens_again_when_its_lease_lapses():
    async def main() -> None:
        async with redis_clients(2) as (prefix, (one, two)):
            dead_leases = RedisLeases(one, prefix)
            gate = RedisBotGate(two, prefix, RedisLeases(two, prefix), seconds=0.6)
            assert await dead_leases.try_acquire(GATE_LEASE, 0.6) is not None  # closed, then its hub died
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with gate.asking():
                waited = loop.time() - started
            assert 0.3 <= waited < 3.0
            async with gate.closed():  # and a live closer can close it again at once
                assert await dead_leases.held(GATE_LEASE)

    asyncio.run(main())


def test_a_dead_askers_call_stops_counting_when_its_registration_lapses():
    async def main() -> None:
        async with redis_clients(2) as (prefix, (one, two)):
            dead = RedisBotGate(one, prefix, RedisLeases(one, prefix), seconds=0.6)
            closer = RedisBotGate(two, prefix, RedisLeases(two, prefix), seconds=0.6)
            asking = dead.asking()
            await asking.__aenter__()  # in flight, then its hub died: never ended, never renewed
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()  # the renewal dies with the hub
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with closer.closed():
                waited = loop.time() - started
            assert 0.3 <= waited < 3.0

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------- presence


def test_presence_counts_an_agent_seen_on_both_hubs_once_and_auto_assignment_fills_capacity_once(tmp_path):
    async def story(hubs: TwoHubs) -> None:
        kim = hubs.agents["kim"]
        await hubs.a.agents.seen(kim.id)  # kim's console on hub A, and another of hers on hub B
        await hubs.b.agents.seen(kim.id)
        assert [agent.id for agent in await hubs.a.agents.online()] == [kim.id]
        assert (await hubs.b.queue.status_of(hubs.conversation)).agents_online == 1
        for n in range(5):
            customer = await hubs.a.conversations.customer("web", f"browser-{n + 10}")
            waiting = await hubs.a.conversations.current_conversation(customer)
            await (hubs.a if n % 2 else hubs.b).request_person(
                waiting, reason="requested", priority="normal", summary="s", packet={}, source="test"
            )
        await asyncio.gather(hubs.a.assign_waiting(), hubs.b.assign_waiting(), hubs.a.assign_waiting())
        assert len(await hubs.a.conversations.reads.assigned_to(kim.id)) == kim.capacity == 3
        assert len(await hubs.b.conversations.reads.waiting()) == 2

    across_hubs(tmp_path, story)


# ---------------------------------------------------------------------------------------------- the factory


def test_without_redis_url_a_hub_coordinates_in_its_own_memory(tmp_path):
    pieces = coordination(hub_settings(tmp_path / "hub.db"))
    assert type(pieces.bus) is EventBus and isinstance(pieces.leases, LocalLeases)
    assert isinstance(pieces.locks, LocalConversationLocks) and isinstance(pieces.gate, LocalBotGate)
    assert not pieces.shared


def test_with_redis_url_the_pieces_are_shared_and_closed_with_the_hub(tmp_path):
    async def main() -> None:
        pieces = coordination(hub_settings(tmp_path / "hub.db", REDIS_URL=REDIS_URL, REDIS_PREFIX=unique_prefix()))
        assert isinstance(pieces.bus, RedisEventBus) and isinstance(pieces.leases, RedisLeases)
        assert isinstance(pieces.locks, LeaseConversationLocks) and isinstance(pieces.gate, RedisBotGate)
        await pieces.start()
        assert pieces.bus.listening
        await pieces.close()
        assert not pieces.bus.listening
        assert pieces.redis is not None and pieces.redis.connection_pool._in_use_connections == set()

    asyncio.run(main())


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379"])
def test_a_redis_url_that_is_not_one_is_refused(tmp_path, url):
    with pytest.raises(ConfigurationError):
        hub_settings(tmp_path / "hub.db", REDIS_URL=url)
