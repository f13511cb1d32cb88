"""The handoff queue as customers and agents see it: positions, honest wait estimates, automatic assignment."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import statistics
from collections.abc import Callable

from bot.core.settings import BusinessHours
from bot.store.agents import Agent, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.records import Conversation
from bot.store.schema import utcnow

logger = logging.getLogger(__name__)

DEFAULT_HANDLING_SECONDS = 300.0
"""Assumed time an agent spends on a conversation until there is history to measure."""


@dataclasses.dataclass(frozen=True)
class QueueStatus:
    """What a queued customer is told."""

    position: int | None
    estimated_wait_seconds: int | None
    agents_online: int
    open_now: bool

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class HandoffQueue:
    def __init__(
        self,
        conversations: ConversationStore,
        agents: AgentStore,
        business_hours: BusinessHours | None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._conversations = conversations
        self._agents = agents
        self._hours = business_hours
        self._clock = clock

    def open_now(self) -> bool:
        return self._hours is None or self._hours.is_open(self._clock().replace(tzinfo=dt.timezone.utc))

    async def statuses(self) -> dict[str, QueueStatus]:
        """Position and estimate of every waiting conversation, computed once for all of them."""
        waiting = await self._conversations.reads.waiting()
        online = await self._agents.online()
        handling = await self._conversations.reads.recent_handling_seconds()
        typical = statistics.median(handling) if handling else DEFAULT_HANDLING_SECONDS
        open_now = self.open_now()
        result = {}
        for index, conversation in enumerate(waiting):
            estimate = None
            if online and open_now:
                estimate = int(math.ceil((index + 1) / len(online)) * typical)
            result[conversation.id] = QueueStatus(index + 1, estimate, len(online), open_now)
        return result

    async def status_of(self, conversation: Conversation) -> QueueStatus:
        statuses = await self.statuses()
        if conversation.id in statuses:
            return statuses[conversation.id]
        online = await self._agents.online()
        return QueueStatus(None, None, len(online), self.open_now())

    async def pick_agent(self) -> Agent | None:
        """The online agent with the most free capacity, for automatic assignment; None when all are full."""
        best, best_free = None, 0
        for agent in await self._agents.online():
            free = agent.capacity - len(await self._conversations.reads.assigned_to(agent.id))
            if free > best_free:
                best, best_free = agent, free
        return best
