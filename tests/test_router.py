"""Nothing acknowledged is dropped: each stored customer message reaches the bot exactly once, in order, even when
the hub that took it died, Rasa's answer was lost, or Rasa was down (real stores on SQLite, a fake Rasa)."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select, update

from bot.core.router import BOT_BACK, BOT_TROUBLE, STILL_WORKING
from bot.domain.vocabulary import Reason, Routing, State
from bot.store import schema as t
from bot.store.records import NewMessage
from bot.store.routing import BotInput, RoutingStore
from bot.store.schema import utcnow
from tests.inprocess import FakeRasa, says
from tests.test_hub import Scene, in_scene, transcript


async def left_by_a_dead_hub(scene: Scene, *texts: str, state: Routing = Routing.STORED) -> list[int]:
    """Messages stored and acknowledged by a hub that died before it finished them: their leases have lapsed."""
    ids = []
    for text in texts:
        message, _ = await scene.hub.conversations.add_customer_message(
            scene.conversation.id, NewMessage("customer", text), BotInput(text, {"customer_id": "C1"})
        )
        ids.append(message.id)
    with scene.hub.conversations.engine.begin() as conn:
        conn.execute(
            update(t.routing)
            .where(t.routing.c.message_id.in_(ids))
            .values(state=state.value, lease_until=utcnow().replace(year=2000))
        )
    return ids


def routing_states(scene: Scene) -> list[str]:
    with scene.hub.conversations.engine.connect() as conn:
        return list(conn.execute(select(t.routing.c.state).order_by(t.routing.c.message_id)).scalars())


def test_messages_a_dead_hub_stored_are_answered_once_each_in_order_by_the_next_sweep(tmp_path):
    rasa = FakeRasa({"one": [says("first answer")], "two": [says("second answer")]})

    async def story(scene: Scene) -> None:
        await left_by_a_dead_hub(scene, "one", "two")
        assert await scene.hub.router.sweep() == 1
        await scene.hub.drain()
        assert scene.rasa.texts() == ["one", "two"]
        assert await transcript(scene) == [
            ("customer", "one"),
            ("customer", "two"),
            ("bot", "first answer"),
            ("bot", "second answer"),
        ]
        assert routing_states(scene) == ["answered", "answered"]
        assert await scene.hub.router.sweep() == 0, "nothing is left to pick up"

    in_scene(tmp_path, story, rasa)


def test_a_turn_rasa_finished_before_the_hub_died_is_taken_from_the_tracker_not_asked_again(tmp_path):
    rasa = FakeRasa({"where is my order": [says("It left the warehouse today.")]})

    async def story(scene: Scene) -> None:
        [message_id] = await left_by_a_dead_hub(scene, "where is my order", state=Routing.SENT)
        rasa.turns[(scene.conversation.id, message_id)] = [{"text": "It left the warehouse today."}]
        await scene.hub.router.sweep()
        await scene.hub.drain()
        assert scene.rasa.sent == [], "Rasa already answered this message once"
        assert await transcript(scene) == [("customer", "where is my order"), ("bot", "It left the warehouse today.")]
        assert routing_states(scene) == ["answered"]

    in_scene(tmp_path, story, rasa)


def test_a_message_sent_to_a_rasa_that_never_finished_the_turn_is_sent_again(tmp_path):
    rasa = FakeRasa({"hello": [says("Hi!")]})

    async def story(scene: Scene) -> None:
        await left_by_a_dead_hub(scene, "hello", state=Routing.SENT)
        await scene.hub.router.sweep()
        await scene.hub.drain()
        assert scene.rasa.texts() == ["hello"]
        assert await transcript(scene) == [("customer", "hello"), ("bot", "Hi!")]

    in_scene(tmp_path, story, rasa)


def test_the_answers_stored_before_a_crash_are_not_stored_twice(tmp_path):
    rasa = FakeRasa()

    async def story(scene: Scene) -> None:
        [message_id] = await left_by_a_dead_hub(scene, "hello", state=Routing.REPLIED)
        rasa.turns[(scene.conversation.id, message_id)] = [{"text": "Hi!"}]
        await scene.hub.conversations.add_messages(scene.conversation.id, [NewMessage("bot", "Hi!")])
        await scene.hub.router.sweep()
        await scene.hub.drain()
        assert await transcript(scene) == [("customer", "hello"), ("bot", "Hi!")]
        assert routing_states(scene) == ["answered"]

    in_scene(tmp_path, story, rasa)


def test_a_slow_turn_is_waited_for_the_customer_hears_the_bot_is_still_on_it_then_gets_one_answer(tmp_path):
    rasa = FakeRasa({"cancel my order": [says("Your order is cancelled.")]})
    rasa.delay = 1.5

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "cancel my order", "c-1")
        await scene.hub.drain()
        assert scene.rasa.texts() == ["cancel my order"], "asked once, and not hung up on"
        assert await transcript(scene) == [
            ("customer", "cancel my order"),
            ("system", STILL_WORKING),
            ("bot", "Your order is cancelled."),
        ], "never told it failed, since it did not"
        assert (await scene.conversation_now()).state == State.BOT
        assert routing_states(scene) == ["answered"]

    in_scene(tmp_path, story, rasa, RASA_TIMEOUT_MS="300")


def test_a_turn_past_the_deadline_that_rasa_did_finish_is_taken_from_the_tracker(tmp_path):
    rasa = FakeRasa({"cancel my order": [says("Your order is cancelled.")]})
    rasa.lose_answers = True

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "cancel my order", "c-1")
        await scene.hub.drain()
        assert scene.rasa.texts() == ["cancel my order"]
        assert await transcript(scene) == [("customer", "cancel my order"), ("bot", "Your order is cancelled.")]
        assert routing_states(scene) == ["answered"]

    in_scene(tmp_path, story, rasa)


def test_a_turn_rasa_never_finishes_by_the_deadline_goes_to_a_person(tmp_path):
    rasa = FakeRasa()
    rasa.lose_answers = True

    async def never(sender_id: str, hub_message_id: int) -> None:
        return None

    rasa.turn = never  # type: ignore[method-assign]

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "hello", "c-1")
        await scene.hub.drain()
        assert [text for _, text in await transcript(scene)][:2] == ["hello", BOT_TROUBLE]
        now = await scene.conversation_now()
        assert (now.state, now.reason) == (State.QUEUED, Reason.BOT_ERROR)
        assert routing_states(scene) == ["handed_over"]

    in_scene(tmp_path, story, rasa)


def test_a_silent_turn_an_action_failed_in_hands_over_rather_than_leave_the_customer_hanging(tmp_path):
    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "where is my order", "c-1")
        await scene.hub.drain()
        assert ("system", BOT_TROUBLE) in await transcript(scene)
        assert (await scene.conversation_now()).state == State.QUEUED

    in_scene(tmp_path, story, FakeRasa(default=[]))


def test_rasa_down_hands_over_and_once_rasa_is_back_the_next_message_goes_to_the_bot(tmp_path):
    rasa = FakeRasa({"still there?": [says("Yes! How can I help?")]})
    rasa.down = True

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "hello", "c-1")
        await scene.hub.drain()
        now = await scene.conversation_now()
        assert (now.state, now.reason) == (State.QUEUED, Reason.BOT_ERROR)
        assert ("system", BOT_TROUBLE) in await transcript(scene)

        rasa.down = False
        await scene.hub.receive(scene.conversation, "still there?", "c-2")
        await scene.hub.drain()
        assert (await scene.conversation_now()).state == State.BOT
        assert (await transcript(scene))[-2:] == [("system", BOT_BACK), ("bot", "Yes! How can I help?")]
        assert routing_states(scene) == ["handed_over", "answered"]

    in_scene(tmp_path, story, rasa)


def test_a_queued_customer_who_asked_for_a_person_stays_with_people_when_they_write(tmp_path):
    async def story(scene: Scene) -> None:
        await scene.queued(reason="requested")
        await scene.hub.receive(scene.conversation, "are you there?", "c-1")
        await scene.hub.drain()
        assert scene.rasa.sent == []
        assert (await scene.conversation_now()).state == State.QUEUED
        assert routing_states(scene) == ["handed_over"]

    in_scene(tmp_path, story)


def test_what_a_customer_writes_to_an_agent_never_reaches_the_bot_even_if_the_agent_resolves_at_once(tmp_path):
    async def story(scene: Scene) -> None:
        await scene.with_agent()
        await scene.hub.conversations.add_customer_message(
            scene.conversation.id, NewMessage("customer", "it is the blue bottle"), BotInput("it is the blue bottle")
        )
        assert routing_states(scene) == ["handed_over"], "decided when stored, not when the router gets to it"
        await scene.hub.resolve(scene.agents["sam"], scene.conversation.id)
        await scene.hub.router.route(scene.conversation.id)
        await scene.hub.drain()
        assert scene.rasa.sent == []

    in_scene(tmp_path, story)


def test_a_message_a_live_hub_is_working_on_is_not_swept(tmp_path):
    gate = asyncio.Event()

    async def slow(sender_id: str, text: str, metadata: dict) -> list:
        await gate.wait()
        return [{"text": "done"}]

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "hello", "c-1")
        await asyncio.sleep(0.1)
        assert await scene.hub.router.sweep() == 0, "its lease runs: the hub that took it is on it"
        gate.set()
        await scene.hub.drain()
        assert scene.rasa.texts() == ["hello"]

    in_scene(tmp_path, story, FakeRasa(responder=slow))


def test_two_hubs_sweeping_at_once_claim_each_conversation_once(tmp_path):
    async def story(scene: Scene) -> None:
        await left_by_a_dead_hub(scene, "hello")
        other = RoutingStore(scene.hub.conversations.engine)
        first, second = await asyncio.gather(scene.hub.conversations.routing.lapsed(), other.lapsed())
        assert sorted(first + second) == [scene.conversation.id]
        await scene.hub.router.route(scene.conversation.id)

    in_scene(tmp_path, story)


def test_a_stopping_hub_waits_for_a_slow_turn_only_so_long_and_leaves_it_to_the_next_hub(tmp_path):
    never = asyncio.Event()

    async def stuck(sender_id: str, text: str, metadata: dict) -> list:
        await never.wait()
        return []

    async def story(scene: Scene) -> None:
        await scene.hub.receive(scene.conversation, "hello", "c-1")
        await asyncio.sleep(0.1)
        started = asyncio.get_running_loop().time()
        await scene.hub.drain(timeout=0.5)
        assert asyncio.get_running_loop().time() - started < 2
        assert routing_states(scene) == ["sent"], "still to be finished: the next hub's sweep takes it"

    in_scene(tmp_path, story, FakeRasa(responder=stuck))


def test_a_plainly_answered_message_costs_two_writes_of_its_routing_row(tmp_path):
    """Taking a message marks it `sent`, and storing a plain answer marks it `answered`: no write of its own each."""
    rasa = FakeRasa({"hello": [says("Hi!")]})

    async def story(scene: Scene) -> None:
        routing_writes: list[str] = []

        def note(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("UPDATE HUB_ROUTING"):
                routing_writes.append(statement)

        event.listen(scene.hub.conversations.engine, "before_cursor_execute", note)
        try:
            await scene.hub.receive(scene.conversation, "hello", "c-1")
            await scene.hub.drain()
        finally:
            event.remove(scene.hub.conversations.engine, "before_cursor_execute", note)
        assert await transcript(scene) == [("customer", "hello"), ("bot", "Hi!")]
        assert routing_states(scene) == ["answered"]
        assert len(routing_writes) == 2, routing_writes

    in_scene(tmp_path, story, rasa)


def test_a_message_taken_is_marked_sent_and_the_route_keeps_the_state_it_was_taken_in(tmp_path):
    async def story(scene: Scene) -> None:
        await left_by_a_dead_hub(scene, "hello")
        route = await scene.hub.conversations.routing.take_next(scene.conversation.id)
        assert route is not None and route.state == Routing.STORED and route.attempts == 1
        assert routing_states(scene) == ["sent"]

    in_scene(tmp_path, story, FakeRasa())


def test_a_burst_of_messages_reaches_the_bot_in_order_with_one_look_at_the_routing_table_each(tmp_path):
    """Each stored message has its own routing call, so none of them looks for a further message."""
    rasa = FakeRasa({"one": [says("first")], "two": [says("second")], "three": [says("third")]})

    async def story(scene: Scene) -> None:
        looks: list[str] = []

        def note(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("SELECT") and "FROM HUB_ROUTING" in statement.upper():
                looks.append(statement)

        event.listen(scene.hub.conversations.engine, "before_cursor_execute", note)
        try:
            for n, text in enumerate(("one", "two", "three")):
                await scene.hub.receive(scene.conversation, text, f"c-{n}")
            await scene.hub.drain()
        finally:
            event.remove(scene.hub.conversations.engine, "before_cursor_execute", note)
        assert scene.rasa.texts() == ["one", "two", "three"]
        assert [text for sender, text in await transcript(scene) if sender == "bot"] == ["first", "second", "third"]
        assert routing_states(scene) == ["answered"] * 3
        assert len(looks) == 3, looks

    in_scene(tmp_path, story, rasa)
