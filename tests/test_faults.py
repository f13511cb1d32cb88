"""What is promised when a process dies mid-conversation, checked on real processes killed with SIGKILL while a
customer's message is in flight (held there by a TCP proxy for exactly that moment): the hub, Rasa, the action
server. Nothing the customer wrote is lost, they are never left without an answer, and they get exactly one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import select

from bot.core.router import BOT_BACK, BOT_TROUBLE
from bot.store import schema as t
from bot.store.database import create_engine
from tests.fault_proxy import FaultProxy
from tests.hub_clients import CustomerClient, Event
from tests.rasa_stack import RasaStack

pytestmark = [pytest.mark.stack, pytest.mark.model]

TRACK = "where is my order 00123842?"
"""Runs the order form's custom actions: Rasa calls the action server in this turn."""


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, demo_shop_template: Path
) -> Iterator[tuple[RasaStack, FaultProxy]]:
    """One stack for the module, Rasa reaching the action server through a proxy; each test leaves it running
    (restarted where it killed something) and starts its own hub."""
    stack = RasaStack(tmp_path_factory.mktemp("faults"), demo_shop_template)
    with FaultProxy(stack.actions_port) as to_actions:
        stack.endpoints.write_text(
            stack.endpoints.read_text().replace(f":{stack.actions_port}/", f":{to_actions.port}/")
        )
        try:
            stack.start()
            yield stack, to_actions
        finally:
            stack.stop()


@pytest.fixture
def stack(running: tuple[RasaStack, FaultProxy]) -> RasaStack:
    return running[0]


@pytest.fixture
def to_actions(running: tuple[RasaStack, FaultProxy]) -> FaultProxy:
    running[1].hold = 0.0
    return running[1]


def bot_said(event: Event) -> bool:
    return event["type"] == "message" and event["message"]["sender"] == "bot"


def system_said(text: str) -> Any:
    return lambda e: e["type"] == "message" and e["message"]["sender"] == "system" and e["message"]["text"] == text


def hub_messages(stack: RasaStack, conversation_id: str) -> list[tuple[int, str, str]]:
    engine = create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            query = (
                select(t.messages.c.id, t.messages.c.sender, t.messages.c.text)
                .where(t.messages.c.conversation_id == conversation_id)
                .order_by(t.messages.c.id)
            )
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def routing_states(stack: RasaStack) -> dict[int, str]:
    engine = create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(t.routing.c.message_id, t.routing.c.state)).all())
    finally:
        engine.dispose()


@pytest.mark.parametrize("rasa_got_it", [True, False], ids=["rasa-answered-the-dead-hub", "never-reached-rasa"])
def test_the_hub_killed_between_ack_and_answer_gives_exactly_one_answer_after_restart(stack, rasa_got_it):
    with FaultProxy(stack.rasa_port) as to_rasa:
        env = {"RASA_URL": f"http://127.0.0.1:{to_rasa.port}", "RASA_TIMEOUT_MS": "3000", "ROUTING_SWEEP_MS": "300"}
        stack.start_hub(env)

        async def scenario() -> tuple[Event, CustomerClient]:
            customer = CustomerClient(stack.hub_url)
            await customer.connect()
            to_rasa.hold, to_rasa.drop = 2.0, not rasa_got_it
            ack = await customer.say(TRACK)
            assert ack["type"] == "ack", "stored and acknowledged"
            await asyncio.to_thread(to_rasa.wait_until_held)
            stack.kill("hub")
            to_rasa.hold, to_rasa.drop = 0.0, False
            with contextlib.suppress(websockets.ConnectionClosed):
                await customer.close()  # the hub is dead: no close frame comes back
            await asyncio.sleep(3)  # the held request reaches Rasa (or is dropped) while no hub runs

            stack.start_hub(env)
            again = CustomerClient(stack.hub_url)
            await again.connect(token=customer.token, last_id=ack["id"])
            await again.wait_for(lambda _: bool(again.messages("bot")), timeout=60)
            await asyncio.sleep(4)  # room for a second answer, were the hub to give one
            await again.close()
            return ack, again

        ack, customer = asyncio.run(scenario())
    events = stack.tracker(customer.conversation_id)["events"]
    asked = [i for i, e in enumerate(events) if (e.get("metadata") or {}).get("hub_message_id") == ack["id"]]
    assert len(asked) == 1, "Rasa got the message exactly once"
    rasa_answer = []
    for event in events[asked[0] + 1 :]:
        if event["event"] == "user":
            break
        if event["event"] == "bot" and event.get("text"):
            rasa_answer.append(event["text"])
    hub_answer = [
        text
        for id_, sender, text in hub_messages(stack, customer.conversation_id)
        if id_ > ack["id"] and sender == "bot"
    ]
    stored = sum(sender == "customer" for _, sender, _ in hub_messages(stack, customer.conversation_id))
    print(
        f"\nFAULT hub SIGKILL ({'Rasa answered the dead hub' if rasa_got_it else 'never reached Rasa'}): "
        f"acked 1, stored {stored}, Rasa asked {len(asked)}, answers {len(hub_answer)} of {len(rasa_answer)} said"
    )
    assert rasa_answer and hub_answer == rasa_answer, "the customer got that one answer, once"
    assert [m["text"] for m in customer.messages("bot")] == rasa_answer
    assert routing_states(stack)[ack["id"]] in {"answered", "handed_over"}


async def killed_mid_turn(stack: RasaStack, to_actions: FaultProxy, victim: str) -> CustomerClient:
    """A customer asks something that needs an action; `victim` is SIGKILLed while Rasa waits on the action
    server. Returns once the customer has been told the bot is in trouble."""
    customer = CustomerClient(stack.hub_url)
    await customer.connect()
    to_actions.hold = 5.0
    assert (await customer.say(TRACK))["type"] == "ack"
    await asyncio.to_thread(to_actions.wait_until_held)
    stack.kill(victim)
    to_actions.hold = 0.0
    await customer.wait_for(system_said(BOT_TROUBLE), timeout=60)
    return customer


def report(fault: str, stack: RasaStack, customer: CustomerClient) -> list[str]:
    """What the customer wrote, as stored; the fault's counts printed (`pytest -s`)."""
    said = [text for _, sender, text in hub_messages(stack, customer.conversation_id) if sender == "customer"]
    told = sum(m["text"] == BOT_TROUBLE for m in customer.messages("system"))
    print(f"\nFAULT {fault}: stored {len(said)}, told {told}x, bot answers {len(customer.messages('bot'))}")
    return said


def test_rasa_killed_mid_turn_the_customer_is_told_and_handed_over_and_after_restart_the_bot_answers(stack, to_actions):
    stack.start_hub({"ROUTING_SWEEP_MS": "300"})

    async def scenario() -> CustomerClient:
        customer = await killed_mid_turn(stack, to_actions, "rasa")
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued", timeout=10)
        assert (await customer.say("are you still there?"))["type"] == "ack", "stored while Rasa is down"

        await asyncio.to_thread(stack.start)
        seen = len(customer.events)
        assert (await customer.say("what are your delivery options?"))["type"] == "ack"
        await customer.wait_for(system_said(BOT_BACK), timeout=60, after=seen)
        await customer.wait_for(bot_said, timeout=60, after=seen)
        await customer.close()
        return customer

    customer = asyncio.run(scenario())
    said = report("Rasa SIGKILL (3 sent)", stack, customer)
    assert said == [TRACK, "are you still there?", "what are your delivery options?"], "nothing lost"
    assert customer.messages("bot"), "the bot answers again"


def test_the_action_server_killed_mid_turn_the_customer_is_told_and_the_bot_answers_after_restart(stack, to_actions):
    stack.start_hub({"ROUTING_SWEEP_MS": "300"})

    async def scenario() -> CustomerClient:
        customer = await killed_mid_turn(stack, to_actions, "actions")
        await asyncio.to_thread(stack.start_actions)
        seen = len(customer.events)
        assert (await customer.say("what are your delivery options?"))["type"] == "ack"
        await customer.wait_for(bot_said, timeout=60, after=seen)
        await customer.close()
        return customer

    customer = asyncio.run(scenario())
    said = report("action server SIGKILL (2 sent)", stack, customer)
    assert said == [TRACK, "what are your delivery options?"], "nothing lost"
