"""The hub's routing and ownership rules, on real stores over SQLite and a fake Rasa, with no server in between:
the bot answers only while it owns a conversation, people take over one at a time, and only the owner acts."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from bot.core.events import QUEUE_TOPIC, EventBus, Subscription, agent_topic, conversation_topic
from bot.core.hub import Hub, NotAllowed
from bot.core.rasa_client import RasaClient
from bot.store.agents import Agent, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.records import Conversation
from tests.inprocess import FakeRasa, accounts, asks_rating, hands_off, hub_settings, prepare_database, says

Event = dict[str, Any]


@dataclasses.dataclass
class Scene:
    """A hub on a fresh database, its fake Rasa, the accounts and one customer's conversation, listened to as the
    customer's socket would be."""

    hub: Hub
    rasa: FakeRasa
    agents: dict[str, Agent]
    conversation: Conversation
    customer: Subscription
    queue: Subscription

    async def conversation_now(self) -> Conversation:
        return await self.hub.conversations.get(self.conversation.id)

    async def heard(self) -> list[Event]:
        """What reached the customer's topic since the last look, once every message is routed."""
        await self.hub.drain()
        return _take(self.customer)

    async def queued(self, **packet: Any) -> None:
        await self.hub.request_person(
            self.conversation,
            reason=packet.pop("reason", "requested"),
            priority=packet.pop("priority", "normal"),
            summary="s",
            packet=packet,
            source="test",
        )

    async def with_agent(self, username: str = "sam") -> None:
        await self.queued()
        await self.hub.claim(self.agents[username], self.conversation.id)


def in_scene(
    tmp_path: Path, story: Callable[[Scene], Awaitable[None]], rasa: FakeRasa | None = None, **env: str
) -> None:
    """Run `story` in a fresh event loop with a fresh hub (built in that loop, as the app's listener builds it)."""

    async def main() -> None:
        engine = prepare_database(tmp_path / "hub.db")
        conversations = ConversationStore(engine)
        bus = EventBus()
        fake = rasa or FakeRasa()
        hub = Hub(
            hub_settings(tmp_path / "hub.db", **env), conversations, AgentStore(engine), cast(RasaClient, fake), bus
        )
        conversation = await conversations.current_conversation(await conversations.customer("web", "browser-1"))
        scene = Scene(
            hub,
            fake,
            accounts(engine),
            conversation,
            bus.subscribe(conversation_topic(conversation.id)),
            bus.subscribe(QUEUE_TOPIC),
        )
        try:
            await story(scene)
        finally:
            await hub.drain()
            engine.dispose()

    asyncio.run(main())


def _take(subscription: Subscription) -> list[Event]:
    events = []
    while not subscription.queue.empty():
        events.append(subscription.queue.get_nowait())
    return events


def said(events: list[Event], sender: str | None = None) -> list[str]:
    return [e["message"]["text"] for e in events if e["type"] == "message" and sender in {None, e["message"]["sender"]}]


def states(events: list[Event]) -> list[str]:
    return [e["state"] for e in events if e["type"] == "state"]


async def transcript(scene: Scene) -> list[tuple[str, str]]:
    return [(m.sender, m.text) for m in await scene.hub.conversations.messages(scene.conversation.id)]


# ------------------------------------------------------------------------------------------------ bot-owned


def test_a_message_is_stored_and_shown_first_then_the_bot_is_asked_and_its_answer_follows(tmp_path):
    rasa = FakeRasa({"hello": [says("Hi! What can I do?", ("Track an order", "/track_order"))]})

    async def story(scene: Scene) -> None:
        message, created = await scene.hub.receive(scene.conversation, "hello", "c-1", metadata={"customer_id": "C1"})
        assert created and message.text == "hello" and message.sender == "customer"
        assert said(_take(scene.customer)) == ["hello"]
        assert scene.rasa.sent == [], "receive returns once the message is stored; the bot is asked after"

        events = await scene.heard()
        assert [e["type"] for e in events] == ["typing", "message"]
        answer = events[1]["message"]
        assert (answer["sender"], answer["text"]) == ("bot", "Hi! What can I do?")
        assert answer["payload"] == {"buttons": [{"title": "Track an order", "payload": "/track_order"}]}
        [sent] = scene.rasa.sent
        assert (sent.sender_id, sent.text) == (scene.conversation.id, "hello")
        assert sent.metadata == {
            "customer_id": "C1",
            "conversation_id": scene.conversation.id,
            "channel": "web",
            "hub_message_id": message.id,
        }, "the hub's message id lets it find this turn in Rasa's tracker after a crash"
        assert await transcript(scene) == [("customer", "hello"), ("bot", "Hi! What can I do?")]

    in_scene(tmp_path, story, rasa)


def test_a_resent_client_message_is_stored_once_and_not_asked_again(tmp_path):
    async def story(scene: Scene) -> None:
        first, _ = await scene.hub.receive(scene.conversation, "hello", "c-1")
        await scene.heard()
        again, created = await scene.hub.receive(scene.conversation, "hello", "c-1")
        assert (created, again.id) == (False, first.id)
        assert await scene.heard() == []
        assert scene.rasa.texts() == ["hello"]

    in_scene(tmp_path, story)


def test_a_button_sends_its_payload_to_the_bot_and_leaves_its_title_in_the_transcript(tmp_path):
    async def story(scene: Scene) -> None:
        await scene.hub.receive(
            scene.conversation, "Track an order", "b-1", bot_text="/track_order", payload={"button": "/track_order"}
        )
        await scene.heard()
        assert scene.rasa.texts() == ["/track_order"]
        assert (await transcript(scene))[0] == ("customer", "Track an order")

    in_scene(tmp_path, story)


def test_messages_of_one_conversation_reach_the_bot_one_at_a_time_in_order(tmp_path):
    rasa = FakeRasa()
    rasa.delay = 0.03

    async def story(scene: Scene) -> None:
        for n, text in enumerate(("one", "two", "three")):
            await scene.hub.receive(scene.conversation, text, f"c-{n}")
        await scene.heard()
        assert scene.rasa.texts() == ["one", "two", "three"]
        assert not scene.rasa.overlapped

    in_scene(tmp_path, story, rasa)


def test_the_bots_goodbye_asks_for_a_rating_credited_to_the_bot(tmp_path):
    rasa = FakeRasa({"bye": [says("Goodbye!"), asks_rating()]})

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "bye", "c-1")
        events = await scene.heard()
        assert said(events, "bot") == ["Goodbye!"]
        [asked] = [e["message"] for e in events if e["type"] == "message" and e["message"]["sender"] == "system"]
        assert asked["text"] == "Before you go! How did the bot do? Tap a rating (5 is best)."
        assert asked["payload"]["rating_request"] is True and asked["payload"]["question"] == "csat"

    in_scene(tmp_path, story, rasa)


# ------------------------------------------------------------------------------------------------ handoffs


def test_rasas_handoff_packet_queues_the_conversation_with_its_reason_priority_and_summary(tmp_path):
    packet = hands_off("complex", "high", "A complaint about the courier.", signals=["intent:complaint"])
    rasa = FakeRasa({"I want to complain": [says("I'm bringing in a person from our team."), packet]})

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "I want to complain", "c-1")
        events = await scene.heard()
        now = await scene.conversation_now()
        assert (now.state, now.reason, now.priority, now.summary) == (
            "queued",
            "complex",
            "high",
            "A complaint about the courier.",
        )
        handoff = await scene.hub.conversations.reads.handoff(now.handoff_id)
        assert handoff.packet == packet["custom"]["handoff"] and handoff.source == "rasa"
        assert said(events, "bot") == ["I'm bringing in a person from our team."]
        [offer] = [e["message"] for e in events if e["type"] == "message" and e["message"]["sender"] == "system"]
        assert "not available right now" in offer["text"], "nobody is online"
        assert [b["payload"] for b in offer["payload"]["buttons"]] == ["/leave_message", "/back_to_bot"]
        [queued] = [e for e in events if e["type"] == "state"]
        assert queued["queue"] == {"position": 1, "estimated_wait_seconds": None, "agents_online": 0, "open_now": True}
        assert [e["type"] for e in _take(scene.queue)] == ["queued"]

    in_scene(tmp_path, story, rasa)


def test_a_reason_or_priority_outside_the_vocabulary_is_read_as_requested_and_normal(tmp_path):
    rasa = FakeRasa({"help": [hands_off("made_up", "asap")]})

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "help", "c-1")
        await scene.heard()
        now = await scene.conversation_now()
        assert (now.state, now.reason, now.priority) == ("queued", "requested", "normal")

    in_scene(tmp_path, story, rasa)


def test_when_rasa_is_down_the_customer_is_told_and_queued_for_a_person_with_high_priority(tmp_path):
    rasa = FakeRasa()
    rasa.down = True

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "where is my order?", "c-1")
        events = await scene.heard()
        assert "having trouble" in said(events, "system")[0]
        assert said(events, "bot") == []
        now = await scene.conversation_now()
        assert (now.state, now.reason, now.priority) == ("queued", "bot_error", "high")
        assert now.summary == 'The bot could not answer (RasaUnavailable). Last message: "where is my order?"'
        handoff = await scene.hub.conversations.reads.handoff(now.handoff_id)
        assert handoff.source == "hub" and handoff.packet["signals"] == ["hub:rasa_unavailable"]

    in_scene(tmp_path, story, rasa)


def test_a_conversation_is_queued_once(tmp_path):
    async def story(scene: Scene) -> None:
        asked = [
            await scene.hub.request_person(
                scene.conversation, reason="requested", priority="normal", summary="s", packet={}, source="test"
            )
            for _ in range(2)
        ]
        assert asked == [True, False]
        await scene.hub.claim(scene.agents["sam"], scene.conversation.id)
        assert not await scene.hub.request_person(
            scene.conversation, reason="requested", priority="urgent", summary="s", packet={}, source="test"
        )
        assert (await scene.conversation_now()).state == "agent"

    in_scene(tmp_path, story)


def test_talk_to_a_person_goes_through_the_bot_while_it_has_the_conversation_and_only_then(tmp_path):
    rasa = FakeRasa({"/contact_human_agent": [hands_off()]})

    async def story(scene: Scene) -> None:
        stored = await scene.hub.ask_for_person(scene.conversation, "Talk to a person", "h-1")
        await scene.heard()
        assert stored is not None and stored[0].text == "Talk to a person"
        assert scene.rasa.texts() == ["/contact_human_agent"]
        assert (await scene.conversation_now()).state == "queued"

        assert await scene.hub.ask_for_person(scene.conversation, "Talk to a person", "h-2") is None
        events = await scene.heard()
        assert states(events) == ["queued"] and said(events) == []
        assert scene.rasa.texts() == ["/contact_human_agent"]

    in_scene(tmp_path, story, rasa)


# ------------------------------------------------------------------------------------------------ people own it


@pytest.mark.parametrize("owner", ["queued", "agent"])
def test_while_people_own_the_conversation_rasa_is_not_called_and_the_bot_says_nothing(tmp_path, owner):
    async def story(scene: Scene) -> None:
        await (scene.queued() if owner == "queued" else scene.with_agent())
        await scene.heard()
        _, created = await scene.hub.receive(scene.conversation, "are you there?", "c-1")
        events = await scene.heard()
        assert created and said(events) == ["are you there?"]
        assert [e["type"] for e in events] == ["message"], "no typing, no bot message"
        assert scene.rasa.sent == []
        assert (await scene.conversation_now()).state == owner

    in_scene(tmp_path, story)


def test_a_bot_answer_that_comes_back_after_a_person_took_over_is_dropped(tmp_path):
    answering = asyncio.Event()
    release = asyncio.Event()

    async def slow(sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        answering.set()
        await release.wait()
        return [says("A late answer from the bot")]

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "hello?", "c-1")
        await answering.wait()
        await scene.queued()
        release.set()
        events = await scene.heard()
        assert said(events, "bot") == []
        assert ("bot", "A late answer from the bot") not in await transcript(scene)

    in_scene(tmp_path, story, FakeRasa(responder=slow))


def test_of_two_agents_claiming_at_once_exactly_one_gets_it_and_the_other_is_told_no(tmp_path):
    async def story(scene: Scene) -> None:
        await scene.queued()
        await scene.heard()
        results = await asyncio.gather(
            scene.hub.claim(scene.agents["sam"], scene.conversation.id),
            scene.hub.claim(scene.agents["kim"], scene.conversation.id),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, Conversation)]
        lost = [r for r in results if isinstance(r, NotAllowed)]
        assert len(won) == 1 and len(lost) == 1
        assert lost[0].status == 409 and "no longer waiting" in lost[0].message
        events = await scene.heard()
        assert len([t for t in said(events, "system") if "has joined" in t]) == 1
        winner = next(a for a in scene.agents.values() if a.id == won[0].assigned_agent_id)
        assert [e["agent"] for e in events if e["type"] == "state"] == [{"name": winner.display_name}]

    in_scene(tmp_path, story)


def test_trainers_cannot_take_conversations_and_nobody_takes_one_the_bot_has(tmp_path):
    async def story(scene: Scene) -> None:
        with pytest.raises(NotAllowed, match="only agents and supervisors"):
            await scene.hub.claim(scene.agents["robin"], scene.conversation.id)
        with pytest.raises(NotAllowed, match="no longer waiting"):
            await scene.hub.claim(scene.agents["sam"], scene.conversation.id)
        await scene.queued()
        await scene.hub.claim(scene.agents["alex"], scene.conversation.id)
        assert (await scene.conversation_now()).assigned_agent_id == scene.agents["alex"].id

    in_scene(tmp_path, story)


def test_only_the_owner_replies_transfers_and_resolves_and_a_refusal_leaves_no_trace(tmp_path):
    async def story(scene: Scene) -> None:
        sam, kim, robin = scene.agents["sam"], scene.agents["kim"], scene.agents["robin"]
        await scene.queued()
        with pytest.raises(NotAllowed):
            await scene.hub.reply(sam, scene.conversation.id, "before claiming")
        await scene.hub.claim(sam, scene.conversation.id)
        await scene.heard()
        refused = [
            scene.hub.reply(kim, scene.conversation.id, "not mine"),
            scene.hub.transfer(kim, scene.conversation.id, kim),
            scene.hub.resolve(kim, scene.conversation.id),
            scene.hub.transfer(sam, scene.conversation.id, robin),
        ]
        for attempt in refused:
            with pytest.raises(NotAllowed):
                await attempt
        assert await scene.heard() == []
        now = await scene.conversation_now()
        assert (now.state, now.assigned_agent_id) == ("agent", sam.id)

        message = await scene.hub.reply(sam, scene.conversation.id, "Hi, Sam here", "r-1")
        assert message.payload == {"agent_name": "Sam (agent)"} and message.agent_id == sam.id
        assert said(await scene.heard(), "agent") == ["Hi, Sam here"]
        assert [text for sender, text in await transcript(scene) if sender == "agent"] == ["Hi, Sam here"]

    in_scene(tmp_path, story)


def test_a_transfer_tells_the_customer_and_the_new_agent_who_then_owns_the_conversation(tmp_path):
    async def story(scene: Scene) -> None:
        sam, kim = scene.agents["sam"], scene.agents["kim"]
        kims_console = scene.hub.bus.subscribe(agent_topic(kim.id))
        await scene.with_agent("sam")
        await scene.heard()
        await scene.hub.transfer(sam, scene.conversation.id, kim)
        events = await scene.heard()
        assert said(events, "system") == ["Kim (agent) from our team is taking over from Sam (agent)."]
        assert [e.get("agent") for e in events if e["type"] == "state"] == [{"name": "Kim (agent)"}]
        assert _take(kims_console) == [{"type": "assigned", "conversation_id": scene.conversation.id}]
        await scene.hub.reply(kim, scene.conversation.id, "Kim here")
        with pytest.raises(NotAllowed):
            await scene.hub.reply(sam, scene.conversation.id, "Sam again")

    in_scene(tmp_path, story)


def test_resolving_asks_for_a_rating_tells_rasa_what_the_agent_said_and_gives_the_bot_the_next_message(tmp_path):
    async def story(scene: Scene) -> None:
        sam = scene.agents["sam"]
        await scene.with_agent("sam")
        await scene.hub.reply(sam, scene.conversation.id, "Your parcel is at the depot.")
        await scene.heard()
        await scene.hub.resolve(sam, scene.conversation.id)
        events = await scene.heard()
        assert states(events) == ["resolved"]
        [asked] = [e["message"] for e in events if e["type"] == "message"]
        assert asked["text"].startswith("Sam (agent) has marked this as resolved. How did we do?")
        assert [b["payload"] for b in asked["payload"]["buttons"]] == ["5", "4", "3", "2", "1"]
        assert scene.rasa.appended == [
            (
                scene.conversation.id,
                [
                    {"event": "active_loop", "name": None},
                    {"event": "slot", "name": "requested_slot", "value": None},
                    {"event": "bot", "text": "Your parcel is at the depot.", "metadata": {"agent_id": sam.id}},
                    {"event": "action", "name": "action_listen"},
                ],
            )
        ]
        assert {"type": "resolved", "conversation_id": scene.conversation.id} in _take(scene.queue)
        with pytest.raises(NotAllowed):
            await scene.hub.resolve(sam, scene.conversation.id)

        await scene.hub.receive(scene.conversation, "thanks, one more thing", "c-9")
        events = await scene.heard()
        assert states(events) == ["bot"] and said(events, "bot") == ["I am the fake bot."]
        assert scene.rasa.texts() == ["thanks, one more thing"]

    in_scene(tmp_path, story)


def test_with_csat_and_nps_the_second_question_follows_the_first_answer_and_each_is_answered_once(tmp_path):
    async def story(scene: Scene) -> None:
        sam = scene.agents["sam"]
        await scene.with_agent("sam")
        await scene.hub.resolve(sam, scene.conversation.id)
        await scene.heard()
        first = await scene.hub.feedback.rate(await scene.conversation_now(), 4, "kind", "csat")
        assert first == {"question": "csat", "score": 4, "agent_id": sam.id, "credited_to": "agent"}
        assert said(await scene.heard(), "system")[0].startswith("Thank you! One more question. How likely")
        second = await scene.hub.feedback.rate(await scene.conversation_now(), 9, None, "nps")
        assert second is not None and second["agent_id"] == sam.id
        assert said(await scene.heard(), "system") == ["Thank you for your feedback!"]
        assert await scene.hub.feedback.rate(await scene.conversation_now(), 1, None, "nps") is None

    in_scene(tmp_path, story, FEEDBACK_QUESTIONS="csat,nps")


def test_a_queued_customer_can_go_back_to_the_bot_and_leaves_the_queue(tmp_path):
    async def story(scene: Scene) -> None:
        await scene.queued()
        await scene.heard()
        _take(scene.queue)
        assert await scene.hub.back_to_bot(scene.conversation)
        assert said(await scene.heard(), "system") == [
            "No problem, you're back with the bot. A person is one tap away."
        ]
        assert _take(scene.queue) == [{"type": "left", "conversation_id": scene.conversation.id}]
        assert (await scene.conversation_now()).state == "bot"
        assert not await scene.hub.back_to_bot(scene.conversation), "only from the queue"

    in_scene(tmp_path, story)


def test_a_model_reload_holds_new_messages_until_the_new_model_is_in_and_hands_nobody_over(tmp_path):
    async def story(scene: Scene) -> None:
        scene.rasa.reload_gate = asyncio.Event()
        reload = asyncio.create_task(scene.hub.reload_model("/models/new.tar.gz"))
        while not scene.rasa.reloads:
            await asyncio.sleep(0.01)
        await scene.hub.receive(scene.conversation, "hello during the reload", "c-1")
        await asyncio.sleep(0.1)
        assert scene.rasa.sent == [], "held while Rasa loads the model"
        scene.rasa.reload_gate.set()
        name, paused = await reload
        events = await scene.heard()
        assert (name, scene.rasa.texts()) == ("new.tar.gz", ["hello during the reload"])
        assert paused >= 0.1
        assert said(events, "bot") == ["I am the fake bot."]
        assert (await scene.conversation_now()).state == "bot"

    in_scene(tmp_path, story)
