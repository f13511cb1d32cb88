"""Every acknowledged customer message reaches the bot exactly once, in order per conversation, even across a
crash of the hub, of Rasa or of the action server.

The message's routing row (bot/store/routing.py) says how far it got. The hub that stored a message routes it at
once; a sweep, at start and every few seconds, routes what a dead hub left behind once its lease lapses. A message
already `sent` is first looked up in Rasa's tracker: when Rasa finished that turn, its answer is taken from there
instead of asking again, so the customer gets exactly one answer.

Timeouts, from the inside out: each call of the action server to the shop API gives up after SHOP_API_TIMEOUT;
Rasa gives the action server 5 minutes; the hub keeps its request open until RASA_TURN_DEADLINE_SECONDS, longer
than that (hanging up would make Rasa's web server cancel the turn, actions half done), and past RASA_TIMEOUT_MS
tells the customer the bot is still on it. So the customer is told the bot failed only when Rasa's connection
broke (its turn is lost with it), Rasa ended the turn without a word, or Rasa itself gave up; never about
something that then happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from bot.core.events import conversation_topic
from bot.core.rasa_client import RasaTimeout, RasaUnavailable
from bot.core.runtime import BotGate, ConversationLocks
from bot.domain.vocabulary import Priority, Reason, Routing, State
from bot.store.database import DATABASE_UNAVAILABLE
from bot.store.records import Conversation, NewMessage
from bot.store.routing import Route

if TYPE_CHECKING:
    from bot.core.hub import Hub

logger = logging.getLogger(__name__)

STILL_WORKING = "This is taking a little longer than usual. I'm still on it."
BOT_TROUBLE = (
    "Sorry, our assistant is having trouble right now. I'm passing you to a person from our team; "
    "your messages are safe with us."
)
BOT_BACK = "Our assistant is working again and will carry on here. A person is still one tap away."
SILENT_TURN = "Rasa ended the turn without a word (an action failed: Rasa drops its events and carries on)"
"""Every turn of our bot says something; a silent one would leave the customer at a dead end."""
RECOVERY_ATTEMPTS = 3
"""How often a message is retried while Rasa cannot even be asked whether it answered, before a person gets it."""

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


class Router:
    def __init__(self, hub: Hub, locks: ConversationLocks, gate: BotGate, spawn: Spawn) -> None:
        self._hub = hub
        self._locks = locks
        self._gate = gate
        self._spawn = spawn
        self._sweeper: asyncio.Task[None] | None = None
        settings = hub.settings
        self._patience = settings.rasa_timeout
        self._renew_every = max(1.0, settings.rasa_timeout / 2)
        self._sweep_every = settings.routing_sweep_seconds
        hub.conversations.routing.lease = dt.timedelta(seconds=settings.rasa_timeout + 5)

    def route_soon(self, conversation_id: str, *, just_stored: bool = False) -> None:
        """Route the conversation's waiting messages in the background. `just_stored`: a message was just stored
        and routing it is this call's whole task; a message stored meanwhile has a call of its own, so there is no
        need to look for another (one transaction a message fewer)."""
        self._spawn(self.route(conversation_id, at_most=1 if just_stored else None))

    def in_turn(self, conversation_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` (a call to Rasa about the conversation) in the background, in order with its messages: an
        agent's request does not wait on Rasa, and the customer's next message reaches Rasa after it."""

        async def in_order() -> None:
            async with self._locks.hold(conversation_id):
                await work

        self._spawn(in_order())

    async def route(self, conversation_id: str, at_most: int | None = None) -> None:
        """Route the conversation's messages that are not finished with (`at_most` of them), oldest first."""
        async with self._locks.hold(conversation_id):
            taken = 0
            while at_most is None or taken < at_most:
                route = await self._hub.conversations.routing.take_next(conversation_id)
                if route is None or not await self._route(route):
                    return
                taken += 1

    def start(self) -> None:
        """Sweep now (what a previous run left) and then every ROUTING_SWEEP_SECONDS."""
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def sweep(self) -> int:
        """Route the conversations whose messages a hub took and did not finish; how many there were."""
        lapsed = await self._hub.conversations.routing.lapsed()
        for conversation_id in lapsed:
            logger.info("conversation=%s picking up unfinished messages", conversation_id)
            self.route_soon(conversation_id)
        return len(lapsed)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except DATABASE_UNAVAILABLE as exc:  # restarting, say: try again on the next round
                logger.warning("routing sweep skipped, database unavailable: %s", type(exc).__name__)
            except Exception:
                logger.exception("routing sweep failed")
            await asyncio.sleep(self._sweep_every)

    async def _route(self, route: Route) -> bool:
        """One message; False when it must wait for a later sweep (Rasa cannot be reached to check it)."""
        hub = self._hub
        conversation = await self._conversation_for_bot(route)
        if conversation.state != State.BOT:
            await hub.conversations.routing.advance(route.message_id, Routing.HANDED_OVER)
            return True
        replies: list[dict[str, Any]] | None = None
        if route.state in (Routing.SENT, Routing.REPLIED):
            try:
                replies = await hub.rasa.turn(conversation.id, route.message_id)
            except RasaUnavailable as exc:
                if route.attempts < RECOVERY_ATTEMPTS:
                    logger.warning("conversation=%s cannot check an earlier turn yet: %s", conversation.id, exc)
                    return False
                await self._bot_failed(conversation, route, exc)
                return True
            if replies is None and route.state == Routing.REPLIED:
                await hub.conversations.routing.advance(route.message_id, Routing.ANSWERED)
                return True
            if replies is not None:
                logger.info("conversation=%s answer of an earlier turn recovered from Rasa", conversation.id)
        if replies is None:
            replies = await self._ask(conversation, route)
            if replies is None:
                return True
        if not replies:
            await self._bot_failed(conversation, route, RasaUnavailable(SILENT_TURN))
            return True
        await self._deliver(conversation, route, replies)
        return True

    async def _conversation_for_bot(self, route: Route) -> Conversation:
        """The conversation as the bot should see it: a resolved one goes back to the bot; so does one queued only
        because the bot failed, when no person has taken it yet and the bot answers again."""
        hub = self._hub
        current = route.conversation
        if current.state == State.RESOLVED and await hub.conversations.back_to_bot(current.id):
            current = await hub.conversations.get(current.id)
            await hub.publish_state(current)
        elif (
            current.state == State.QUEUED
            and current.reason == Reason.BOT_ERROR
            and route.state == Routing.STORED
            and await hub.rasa.healthy()
            and await hub.back_to_bot(current, BOT_BACK)
        ):
            current = await hub.conversations.get(current.id)
        return current

    async def _ask(self, conversation: Conversation, route: Route) -> list[dict[str, Any]] | None:
        """Send the message to Rasa; its reply items, or None when the customer was handed to a person.

        The message is `sent` already (`take_next` marks it). The request stays open until Rasa answers (Rasa drops
        a turn whose client hung up): past RASA_TIMEOUT_MS the customer hears the bot is still on it, and the lease
        is renewed so no other hub takes the message.
        """
        hub = self._hub
        await hub.bus.publish(
            conversation_topic(conversation.id), {"type": "typing", "from": "bot", "conversation_id": conversation.id}
        )
        metadata = {
            **(route.bot_input.metadata or {}),
            "conversation_id": conversation.id,
            "channel": conversation.channel,
            "hub_message_id": route.message_id,
        }
        async with self._gate.asking():
            sending = asyncio.ensure_future(hub.rasa.send(conversation.id, route.bot_input.text, metadata))
            try:
                await self._while_waiting(conversation, route, sending)
                return await sending
            except RasaTimeout as exc:
                failure: RasaUnavailable = exc
            except RasaUnavailable as exc:
                await self._bot_failed(conversation, route, exc)
                return None
            finally:
                sending.cancel()
        with contextlib.suppress(RasaUnavailable):
            replies = await hub.rasa.turn(conversation.id, route.message_id)
            if replies is not None:
                return replies
        await self._bot_failed(conversation, route, failure)
        return None

    async def _while_waiting(self, conversation: Conversation, route: Route, sending: asyncio.Future[Any]) -> None:
        """Until Rasa answers: say once that the bot is still on it, and keep renewing this hub's lease."""
        routing = self._hub.conversations.routing
        told = False
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not sending.done():
            waited = loop.time() - started
            step = self._patience - waited if not told else self._renew_every
            await asyncio.wait({sending}, timeout=max(0.0, min(step, self._renew_every)))
            if sending.done():
                return
            await routing.advance(route.message_id, Routing.SENT, lease=routing.lease)
            if not told and loop.time() - started >= self._patience:
                logger.warning("conversation=%s rasa is slow; the turn goes on", conversation.id)
                await self._hub.say(conversation, "system", STILL_WORKING)
                told = True

    async def _deliver(self, conversation: Conversation, route: Route, replies: list[dict[str, Any]]) -> None:
        hub = self._hub
        said, handoff, ask_rating = [], None, False
        for item in replies:
            custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
            if custom and isinstance(custom.get("handoff"), dict):
                handoff = custom["handoff"]
                break
            if custom and custom.get("ask_rating"):
                ask_rating = True
            payload = {k: item[k] for k in ("buttons", "image", "attachment") if item.get(k)}
            if item.get("text") or payload:
                said.append(NewMessage("bot", str(item.get("text") or ""), payload or None))
        follow_up = ask_rating or handoff is not None
        if route.state != Routing.REPLIED:
            stored_as = Routing.REPLIED if follow_up else Routing.ANSWERED
            for message in await hub.conversations.routing.store_replies(route, said, stored_as):
                await hub.publish_message(message)
        if not follow_up:
            if route.state == Routing.REPLIED:
                await hub.conversations.routing.advance(route.message_id, Routing.ANSWERED)
            return
        if ask_rating:
            await hub.feedback.ask(conversation, "Before you go!", subject="the bot")
        if handoff is not None:
            await hub.request_person(
                conversation,
                reason=str(handoff.get("reason", "requested")),
                priority=str(handoff.get("priority", "normal")),
                summary=str(handoff.get("summary", "")),
                packet=handoff,
                source="rasa",
            )
        await hub.conversations.routing.advance(
            route.message_id, Routing.HANDED_OVER if handoff is not None else Routing.ANSWERED
        )

    async def _bot_failed(self, conversation: Conversation, route: Route, exc: RasaUnavailable) -> None:
        hub = self._hub
        logger.warning("conversation=%s rasa unavailable: %s", conversation.id, exc)
        await hub.say(conversation, "system", BOT_TROUBLE)
        await hub.request_person(
            conversation,
            reason=Reason.BOT_ERROR,
            priority=Priority.HIGH,
            summary=f"The bot could not answer ({exc.__class__.__name__}). "
            f'Last message: "{route.bot_input.text[:200]}"',
            packet={"reason": "bot_error", "priority": "high", "signals": ["hub:rasa_unavailable"]},
            source="hub",
        )
        await hub.conversations.routing.advance(route.message_id, Routing.HANDED_OVER)
