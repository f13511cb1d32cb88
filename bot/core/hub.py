"""The heart of the hub: every message is stored first, then routed to the bot or to the agents.

Channels (the web widget, Telegram) turn what customers send into calls here; the console turns what agents
do into calls here. Each call publishes what changed on the event bus, so every open socket sees it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.core.events import QUEUE_TOPIC, EventBus, agent_topic, conversation_topic, notes_topic
from bot.core.feedback_flow import FeedbackFlow
from bot.core.leases import Leases, LocalLeases
from bot.core.queue import HandoffQueue
from bot.core.rasa_client import RasaApi
from bot.core.router import Router
from bot.core.runtime import BotGate, ConversationLocks, LocalBotGate, LocalConversationLocks
from bot.core.settings import HubSettings
from bot.domain.errors import FrontlineError
from bot.domain.vocabulary import IDLE_STATES, Priority, Reason, State
from bot.store.agents import Agent, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import DATABASE_UNAVAILABLE
from bot.store.records import Conversation, Message, NewMessage
from bot.store.routing import BotInput

logger = logging.getLogger(__name__)

HUB_COMMANDS = frozenset({"/leave_message", "/back_to_bot"})
"""Button payloads the hub answers itself, whatever the channel: they never reach the bot."""
HUMAN_PAYLOAD = "/contact_human_agent"
BACK_WITH_BOT = "No problem, you're back with the bot. A person is one tap away."


class NotAllowed(FrontlineError):
    """The agent may not do this to this conversation (not theirs, no longer queued, ...)."""

    status = 409
    code = "not_allowed"


class Hub:
    def __init__(
        self,
        settings: HubSettings,
        conversations: ConversationStore,
        agents: AgentStore,
        rasa: RasaApi,
        bus: EventBus,
        locks: ConversationLocks | None = None,
        gate: BotGate | None = None,
        leases: Leases | None = None,
    ) -> None:
        """`locks`, `gate` and `leases` default to this process's own; with several hubs, shared ones through
        Redis stand in for them (bot/core/coordination.py)."""
        self.settings = settings
        self.conversations = conversations
        self.agents = agents
        self.rasa = rasa
        self.bus = bus
        self.leases: Leases = leases or LocalLeases()
        """One holder at a time of a named thing across hubs (a Telegram chat's delivery, Telegram's polling)."""
        self.queue = HandoffQueue(conversations, agents, settings.business_hours)
        self._gate = gate or LocalBotGate()
        self._routing: set[asyncio.Task[None]] = set()
        self.router = Router(self, locks or LocalConversationLocks(), self._gate, self._spawn)
        self.feedback = FeedbackFlow(self)

    async def receive(
        self,
        conversation: Conversation,
        text: str,
        client_id: str | None,
        *,
        bot_text: str | None = None,
        payload: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        to_bot: bool = True,
    ) -> tuple[Message, bool]:
        """A customer's message: stored and shown first, then routed; False when it was a resend.

        Returns as soon as the message is stored, so the channel can acknowledge it; the bot's answer follows
        on the event bus. Messages of one conversation reach the bot one at a time, in order. With `to_bot`
        False the message is only stored and shown (something the bot cannot read, such as a photo).
        """
        bot_input = BotInput(bot_text or text, metadata) if to_bot else None
        message, created = await self.conversations.add_customer_message(
            conversation.id, NewMessage("customer", text, payload, client_message_id=client_id), bot_input
        )
        if not created:
            return message, False
        await self.publish_message(message)
        if to_bot:
            self.router.route_soon(conversation.id, just_stored=True)
        return message, True

    async def ask_for_person(
        self,
        conversation: Conversation,
        text: str,
        client_id: str | None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[Message, bool] | None:
        """The customer's "talk to a person": through the bot (so the handoff packet has the whole story)
        when the bot has the conversation; otherwise they are already with people and hear where they stand."""
        current = await self.conversations.get(conversation.id)
        if current.state in IDLE_STATES:
            return await self.receive(current, text, client_id, bot_text=HUMAN_PAYLOAD, metadata=metadata)
        await self.publish_state(current)
        return None

    async def command(self, conversation: Conversation, payload: str) -> None:
        """A button the hub answers itself (`HUB_COMMANDS`)."""
        current = await self.conversations.get(conversation.id)
        if payload == "/back_to_bot" and await self.back_to_bot(current):
            return
        # Nothing changed (or a person took the conversation meanwhile): the customer hears where they stand.
        await self.publish_state(await self.conversations.get(conversation.id))

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for every message being routed (for shutdown and tests); past `timeout`, stop waiting and cancel
        them: their routing rows stay, and the next hub's sweep takes them up (a shutdown must not wait out a
        slow Rasa turn)."""
        loop = asyncio.get_running_loop()
        until = None if timeout is None else loop.time() + timeout
        while self._routing:
            left = None if until is None else until - loop.time()
            if left is not None and left <= 0:
                for task in list(self._routing):
                    task.cancel()
                await asyncio.gather(*list(self._routing), return_exceptions=True)
                return
            await asyncio.wait(list(self._routing), timeout=left)

    async def agent_left(self, agent_id: int, console: str | None = None) -> None:
        """Mark the agent offline and tell waiting customers, in a task of its own: the agent's socket handler
        that calls this is cancelled when the connection drops, and must not drop the update with it."""
        await asyncio.shield(self._spawn(self._agent_gone(agent_id, console)))

    async def _agent_gone(self, agent_id: int, console: str | None) -> None:
        await self.agents.gone(agent_id, console)
        await self.announce_queue()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._routing.add(task)
        task.add_done_callback(self._routed)
        return task

    def _routed(self, task: asyncio.Task[None]) -> None:
        self._routing.discard(task)
        error = None if task.cancelled() else task.exception()
        if isinstance(error, DATABASE_UNAVAILABLE):
            logger.warning("routing paused, database unavailable (%s): the sweep takes it up", type(error).__name__)
        elif error is not None:
            logger.error("routing a message failed", exc_info=error)

    async def request_person(
        self,
        conversation: Conversation,
        *,
        reason: str,
        priority: str,
        summary: str,
        packet: dict[str, Any],
        source: str,
    ) -> bool:
        """Queue the conversation for a person; False when it is already with people."""
        reason = reason if reason in Reason.words() else Reason.REQUESTED.value
        priority = priority if priority in Priority.words() else Priority.NORMAL.value
        handoff = await self.conversations.queue(
            conversation.id,
            reason=reason,
            priority=priority,
            summary=summary,
            packet=packet,
            source=source,
            from_states=IDLE_STATES,
        )
        if handoff is None:
            return False
        logger.info("conversation=%s queued reason=%s priority=%s source=%s", conversation.id, reason, priority, source)
        queued = await self.conversations.get(conversation.id)
        await self.bus.publish(QUEUE_TOPIC, {"type": "queued", "conversation": queued.to_json()})
        status = await self.queue.status_of(queued)
        if status.agents_online == 0 or not status.open_now:
            await self.say(
                queued,
                "system",
                "Our team is not available right now"
                + ("" if status.open_now else " (we're outside our opening hours)")
                + ". You can leave a message here and the next person from our team will pick it up, "
                "or carry on with the bot.",
                {"buttons": [{"title": "Leave a message", "payload": "/leave_message"},
                             {"title": "Carry on with the bot", "payload": "/back_to_bot"}]},
            )  # fmt: skip
        await self.announce_queue()
        if self.settings.auto_assign:
            await self.assign_waiting()
        return True

    async def reload_model(self, model_file: str) -> tuple[str, float]:
        """Put a newly trained model into the running Rasa server without losing a message.

        Rasa loads a model inside its request handler, which holds up its other requests for the load's
        duration (longer than `RASA_TIMEOUT_MS`). So the hub stops sending, lets the messages already at Rasa
        finish, swaps the model, and then sends what arrived meanwhile: customers wait a few seconds, nobody
        is handed over for a `bot_error`, and every conversation goes on where it was (trackers are in SQL).
        Returns the loaded model's name and the seconds the bot was paused.
        """
        started = asyncio.get_running_loop().time()
        async with self._gate.closed():
            name = await self.rasa.replace_model(model_file)
        paused = asyncio.get_running_loop().time() - started
        logger.info("model reloaded model=%s paused_s=%.1f", name, paused)
        return name, paused

    async def back_to_bot(self, conversation: Conversation, text: str = BACK_WITH_BOT) -> bool:
        """A queued customer would rather carry on with the bot (or the bot, which had failed, answers again)."""
        if not await self.conversations.back_to_bot(conversation.id, from_states=(State.QUEUED,)):
            return False
        current = await self.conversations.get(conversation.id)
        await self.say(current, "system", text)
        await self.publish_state(current)
        await self.bus.publish(QUEUE_TOPIC, {"type": "left", "conversation_id": conversation.id})
        await self.announce_queue()
        return True

    async def claim(self, agent: Agent, conversation_id: str) -> Conversation:
        if not agent.can_handle_conversations:
            raise NotAllowed("only agents and supervisors take conversations")
        if not await self.conversations.claim(conversation_id, agent.id):
            raise NotAllowed("this conversation is no longer waiting")
        return await self._joined(agent, conversation_id)

    async def assign_waiting(self) -> None:
        """Give waiting conversations to online agents with free capacity, most urgent first."""
        for waiting in await self.conversations.reads.waiting():
            agent = await self.queue.pick_agent()
            if agent is None:
                return
            if await self.conversations.claim(waiting.id, agent.id):
                await self._joined(agent, waiting.id)
                await self.bus.publish(agent_topic(agent.id), {"type": "assigned", "conversation_id": waiting.id})

    async def reply(self, agent: Agent, conversation_id: str, text: str, client_id: str | None = None) -> Message:
        message = await self.conversations.record_agent_reply(
            conversation_id,
            agent.id,
            NewMessage("agent", text, {"agent_name": agent.display_name}, agent.id, client_id),
        )
        if message is None:
            raise NotAllowed("you can only write in conversations you own")
        await self.publish_message(message)
        return message

    async def add_note(self, agent: Agent, conversation_id: str, text: str) -> dict[str, Any]:
        """A private note, shown at once to every agent who has the conversation open."""
        note = await self.conversations.notes.add(conversation_id, agent.id, text)
        note["agent_name"] = agent.display_name
        await self.bus.publish(
            notes_topic(conversation_id), {"type": "note", "conversation_id": conversation_id, "note": note}
        )
        return note

    async def report_order_action(self, agent: Agent, conversation_id: str, summary: str, customer_text: str) -> None:
        """Tell the customer what was done to their order, as a message from the shop rather than in the agent's
        own voice (only while the agent still owns the conversation), and the other agents what happened."""
        if customer_text:
            message = await self.conversations.record_agent_reply(
                conversation_id, agent.id, NewMessage("system", customer_text, None, agent.id)
            )
            if message is not None:
                await self.publish_message(message)
        await self.bus.publish(
            notes_topic(conversation_id),
            {"type": "order_action", "conversation_id": conversation_id, "summary": summary},
        )

    async def transfer(self, agent: Agent, conversation_id: str, to: Agent) -> None:
        if not to.can_handle_conversations:
            raise NotAllowed(f"{to.display_name} cannot take conversations")
        if not await self.conversations.transfer(conversation_id, agent.id, to.id):
            raise NotAllowed("you can only transfer conversations you own")
        conversation = await self.conversations.get(conversation_id)
        await self.say(
            conversation, "system", f"{to.display_name} from our team is taking over from {agent.display_name}."
        )
        await self.publish_state(conversation)
        await self.bus.publish(agent_topic(to.id), {"type": "assigned", "conversation_id": conversation_id})

    async def resolve(self, agent: Agent, conversation_id: str) -> None:
        if not await self.conversations.resolve(conversation_id, agent.id):
            raise NotAllowed("you can only resolve conversations you own")
        conversation = await self.conversations.get(conversation_id)
        await self.feedback.ask(conversation, f"{agent.display_name} has marked this as resolved.")
        await self.publish_state(conversation)
        await self.bus.publish(QUEUE_TOPIC, {"type": "resolved", "conversation_id": conversation_id})
        self.router.in_turn(conversation.id, self._hand_back_to_rasa(conversation))
        if self.settings.auto_assign:
            await self.assign_waiting()

    async def publish_state(self, conversation: Conversation) -> None:
        event: dict[str, Any] = {"type": "state", "conversation_id": conversation.id, "state": conversation.state}
        if conversation.assigned_agent_id and conversation.state == State.AGENT:
            agent = await self.agents.get(conversation.assigned_agent_id)
            event["agent"] = {"name": agent.display_name} if agent else None
        if conversation.state == State.QUEUED:
            event["queue"] = (await self.queue.status_of(conversation)).to_json()
        await self.bus.publish(conversation_topic(conversation.id), event)

    async def announce_queue(self) -> None:
        """Tell every waiting customer their new position and estimate."""
        for conversation_id, status in (await self.queue.statuses()).items():
            await self.bus.publish(
                conversation_topic(conversation_id),
                {"type": "state", "conversation_id": conversation_id, "state": State.QUEUED, "queue": status.to_json()},
            )

    async def _joined(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self.conversations.get(conversation_id)
        logger.info("conversation=%s claimed agent=%s", conversation_id, agent.username)
        await self.say(conversation, "system", f"{agent.display_name} from our team has joined the conversation.")
        await self.publish_state(conversation)
        await self.bus.publish(
            QUEUE_TOPIC, {"type": "claimed", "conversation_id": conversation_id, "agent_id": agent.id}
        )
        await self.announce_queue()
        return conversation

    async def _hand_back_to_rasa(self, conversation: Conversation) -> None:
        """Tell Rasa the human stretch is over: close any form and record what the agents said."""
        stretch = await self.conversations.messages(conversation.id)
        agent_lines = [m for m in stretch if m.sender == "agent"][-20:]
        events: list[dict[str, Any]] = [
            {"event": "active_loop", "name": None},
            {"event": "slot", "name": "requested_slot", "value": None},
            *({"event": "bot", "text": m.text, "metadata": {"agent_id": m.agent_id}} for m in agent_lines),
            {"event": "action", "name": "action_listen"},
        ]
        try:
            await self.rasa.append_events(conversation.id, events)
        except Exception as exc:  # the customer is served either way: log and carry on
            logger.warning(
                "conversation=%s could not update Rasa after the human stretch: %s %s",
                conversation.id,
                type(exc).__name__,
                exc,
            )

    async def say(
        self, conversation: Conversation, sender: str, text: str, payload: dict[str, Any] | None = None
    ) -> Message:
        (message,) = await self.conversations.add_messages(conversation.id, [NewMessage(sender, text, payload)])
        await self.publish_message(message)
        return message

    async def publish_message(self, message: Message) -> None:
        await self.bus.publish(
            conversation_topic(message.conversation_id), {"type": "message", "message": message.to_json()}
        )
