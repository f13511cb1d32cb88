"""The handoff queue as customers are told it: their place, an honest estimate (from how long agents have taken
lately, only while someone is online and the shop is open), and who is served first."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

from sqlalchemy import update

from bot.core.events import EventBus
from bot.core.hub import Hub
from bot.core.queue import DEFAULT_HANDLING_SECONDS, HandoffQueue
from bot.core.rasa_client import RasaClient
from bot.core.settings import BusinessHours
from bot.store import schema as t
from bot.store.agents import Agent, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.records import Conversation
from tests.inprocess import FakeRasa, accounts, hub_settings, prepare_database

MONDAY = dt.datetime(2026, 3, 2, 10, 0)
"""Naive UTC, as the stores keep time."""


class Clock:
    def __init__(self, now: dt.datetime = MONDAY) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@dataclasses.dataclass
class Desk:
    clock: Clock
    conversations: ConversationStore
    agents: AgentStore
    staff: dict[str, Agent]
    queue: HandoffQueue

    async def waiting(self, name: str, priority: str = "normal") -> Conversation:
        """A customer queued now, one minute after the last."""
        self.clock.tick(minutes=1)
        conversation = await self.conversations.current_conversation(await self.conversations.customer("web", name))
        await self.conversations.queue(
            conversation.id, reason="requested", priority=priority, summary="s", packet={}, source="test"
        )
        return conversation

    async def online(self, *usernames: str) -> None:
        for username in usernames:
            await self.agents.seen(self.staff[username].id)

    async def handled(self, seconds: float, waited: float = 60) -> None:
        """A handoff claimed `waited` seconds after it was asked and resolved `seconds` after the claim."""
        conversation = await self.waiting(f"handled-{seconds}-{waited}")
        self.clock.tick(seconds=waited)
        await self.conversations.claim(conversation.id, self.staff["kim"].id)
        self.clock.tick(seconds=seconds)
        await self.conversations.resolve(conversation.id, self.staff["kim"].id)

    async def estimates(self) -> list[int | None]:
        return [s.estimated_wait_seconds for s in (await self.queue.statuses()).values()]


def at_desk(tmp_path: Path, story: Callable[[Desk], Awaitable[None]], hours: str = "always") -> None:
    async def main() -> None:
        engine = prepare_database(tmp_path / "hub.db")
        clock = Clock()
        conversations = ConversationStore(engine, clock)
        agents = AgentStore(engine, clock)
        queue = HandoffQueue(conversations, agents, BusinessHours.parse(hours), clock)
        try:
            await story(Desk(clock, conversations, agents, accounts(engine), queue))
        finally:
            engine.dispose()

    asyncio.run(main())


def test_places_go_by_priority_urgent_high_normal_then_by_time_queued(tmp_path):
    async def story(desk: Desk) -> None:
        early = await desk.waiting("early")
        first_urgent = await desk.waiting("first-urgent", "urgent")
        high = await desk.waiting("high", "high")
        late = await desk.waiting("late")
        second_urgent = await desk.waiting("second-urgent", "urgent")
        statuses = await desk.queue.statuses()
        assert {c.id: statuses[c.id].position for c in (early, first_urgent, high, late, second_urgent)} == {
            first_urgent.id: 1,
            second_urgent.id: 2,
            high.id: 3,
            early.id: 4,
            late.id: 5,
        }
        bot_owned = await desk.conversations.current_conversation(await desk.conversations.customer("web", "other"))
        assert (await desk.queue.status_of(bot_owned)).position is None

    at_desk(tmp_path, story)


def test_without_history_each_online_agent_is_expected_to_take_five_minutes_a_conversation(tmp_path):
    async def story(desk: Desk) -> None:
        for name in ("a", "b", "c"):
            await desk.waiting(name)
        await desk.online("sam")
        assert await desk.estimates() == [300, 600, 900]
        await desk.online("kim")
        assert await desk.estimates() == [300, 300, 600]
        assert DEFAULT_HANDLING_SECONDS == 300

    at_desk(tmp_path, story)


def test_estimates_take_the_median_time_agents_spent_lately_from_claim_to_resolve(tmp_path):
    async def story(desk: Desk) -> None:
        await desk.handled(100, waited=3600)
        await desk.handled(900)
        await desk.handled(200)
        await desk.waiting("a")
        await desk.waiting("b")
        await desk.online("sam")
        assert await desk.estimates() == [200, 400], "the median, and the hour one of them waited is not counted"

    at_desk(tmp_path, story)


def test_with_nobody_online_a_customer_has_a_place_but_no_estimate(tmp_path):
    async def story(desk: Desk) -> None:
        waiting = await desk.waiting("a")
        await desk.online("robin")  # a trainer's console does not take conversations
        status = await desk.queue.status_of(waiting)
        assert (status.position, status.estimated_wait_seconds, status.agents_online) == (1, None, 0)
        await desk.online("sam")
        desk.clock.tick(minutes=5)  # the console has not been seen since
        assert (await desk.queue.status_of(waiting)).agents_online == 0

    at_desk(tmp_path, story)


def test_outside_business_hours_there_is_no_estimate_and_the_queue_says_it_is_closed(tmp_path):
    async def story(desk: Desk) -> None:
        waiting = await desk.waiting("a")

        async def status_at(moment: dt.datetime) -> tuple[bool, int | None]:
            desk.clock.now = moment
            await desk.online("sam")
            status = await desk.queue.status_of(waiting)
            return status.open_now, status.estimated_wait_seconds

        assert await status_at(dt.datetime(2026, 3, 2, 8, 30)) == (False, None)  # 08:30 in London (GMT)
        assert await status_at(dt.datetime(2026, 3, 2, 9, 30)) == (True, 300)
        assert await status_at(dt.datetime(2026, 6, 1, 8, 30)) == (True, 300)  # 09:30 in London (BST)
        assert await status_at(dt.datetime(2026, 6, 1, 16, 30)) == (False, None)  # 17:30 BST
        assert await status_at(dt.datetime(2026, 3, 7, 10, 0)) == (False, None)  # a Saturday

    at_desk(tmp_path, story, hours="Mon-Fri 09:00-17:00 Europe/London")


def test_automatic_assignment_picks_the_online_agent_with_the_most_free_capacity(tmp_path):
    async def story(desk: Desk) -> None:
        with desk.conversations.engine.begin() as conn:
            conn.execute(update(t.agents).where(t.agents.c.username == "kim").values(capacity=2))

        async def picked(*take: str) -> str | None:
            """Each of `take` gets a new conversation; then who would get the next one."""
            for username in take:
                await desk.conversations.claim((await desk.waiting(username)).id, desk.staff[username].id)
            await desk.online("sam", "kim", "robin")
            agent = await desk.queue.pick_agent()
            return agent.username if agent else None

        assert await desk.queue.pick_agent() is None, "nobody online"
        assert await picked() == "sam"  # 3 free against kim's 2
        assert await picked("sam", "sam") == "kim"  # 1 against 2
        assert await picked("kim", "kim") == "sam"  # 1 against none
        assert await picked("sam") is None, "everyone is full; the trainer is never picked"


def test_waiting_conversations_are_assigned_urgent_first_then_high_then_the_longest_waiting(tmp_path):
    async def story(desk: Desk) -> None:
        hub = Hub(
            hub_settings(tmp_path / "hub.db"),
            desk.conversations,
            desk.agents,
            cast(RasaClient, FakeRasa()),
            EventBus(),
        )
        early = await desk.waiting("early")
        urgent = await desk.waiting("urgent", "urgent")
        high = await desk.waiting("high", "high")
        late = await desk.waiting("late")
        with desk.conversations.engine.begin() as conn:
            conn.execute(update(t.agents).where(t.agents.c.username == "sam").values(capacity=2))
        await desk.online("sam")
        await hub.assign_waiting()
        sam = desk.staff["sam"]
        assert {c.id for c in await desk.conversations.reads.assigned_to(sam.id)} == {urgent.id, high.id}
        assert [c.id for c in await desk.conversations.reads.waiting()] == [early.id, late.id]
        await desk.conversations.resolve(urgent.id, sam.id)
        await hub.assign_waiting()
        assert [c.id for c in await desk.conversations.reads.waiting()] == [late.id]

    at_desk(tmp_path, story)


def test_with_auto_assign_a_handoff_goes_straight_to_an_online_agent(tmp_path):
    async def story(desk: Desk) -> None:
        bus = EventBus()
        hub = Hub(
            hub_settings(tmp_path / "hub.db", AUTO_ASSIGN="true"),
            desk.conversations,
            desk.agents,
            cast(RasaClient, FakeRasa()),
            bus,
        )
        sam = desk.staff["sam"]
        console = bus.subscribe(f"agent:{sam.id}")
        await desk.online("sam")
        conversation = await desk.conversations.current_conversation(await desk.conversations.customer("web", "a"))
        assert await hub.request_person(
            conversation, reason="requested", priority="normal", summary="s", packet={}, source="test"
        )
        now = await desk.conversations.get(conversation.id)
        assert (now.state, now.assigned_agent_id) == ("agent", sam.id)
        assert console.queue.get_nowait() == {"type": "assigned", "conversation_id": conversation.id}

    at_desk(tmp_path, story)
