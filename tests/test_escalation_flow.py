"""The learned judgement in whole conversations: through Rasa's REST channel, and through the hub's widget socket.

Each message here is written to need the learned model: none holds a phrase of escalation.yml's lists.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.hub_clients import AgentClient, CustomerClient
from tests.test_assistant_conversations import chat, handoff_of, texts

STRONG = "honestly I give up on you lot, three weeks of excuses and not a single straight answer"
MILD = "kind of annoying that the parcel hasn't moved, where is order 00123842?"
SECOND_MILD = "meh, that's not great, I was hoping it would be here sooner"
CALM_HIGH_STAKES = [
    ("A 64.50 payment to your shop appeared on my statement, but I haven't bought anything from you", "fraud"),
    ("My login email was changed last night and it wasn't me who changed it", "account_takeover"),
    ("The parcel I got has another customer's invoice inside, with her home address on it", "data_exposure"),
]
ALARMING_ROUTINE = ["kill my newsletter subscription please", "is there a penalty for cancelling an order?"]


def test_a_strong_message_goes_to_a_person_at_once(assistant):
    (reply,) = chat(assistant, STRONG)
    packet = handoff_of(reply)
    assert packet is not None and packet["reason"] == "emotional" and packet["priority"] == "urgent"
    strong = next(s for s in packet["signals"] if s.startswith("emotion:strong"))
    assert packet["scores"][strong] >= 0.5


def test_a_mild_message_gets_an_apology_and_its_answer_and_a_second_one_a_person(assistant):
    first, second = chat(assistant, MILD, SECOND_MILD)
    assert handoff_of(first) is None
    assert texts(first).startswith("I'm sorry") or "sorry" in texts(first).split("\n")[0].lower()
    assert "on its way with DHL" in texts(first)
    assert any(b["title"] == "Talk to a person" for r in first for b in r.get("buttons") or [])
    packet = handoff_of(second)
    assert packet is not None and (packet["reason"], packet["priority"]) == ("emotional", "high")


@pytest.mark.parametrize(("message", "topic"), CALM_HIGH_STAKES)
def test_a_high_stakes_topic_in_calm_words_goes_to_a_person(assistant, message, topic):
    (reply,) = chat(assistant, message)
    packet = handoff_of(reply)
    assert packet is not None and packet["reason"] == "complex", texts(reply)
    assert f"topic:{topic}" in packet["signals"] and packet["scores"][f"topic:{topic}"] >= 0.5
    expected = "urgent" if topic == "fraud" else "high"
    assert packet["priority"] == expected


@pytest.mark.parametrize("message", ALARMING_ROUTINE)
def test_a_routine_message_with_alarming_words_is_answered_by_the_bot(assistant, message):
    (reply,) = chat(assistant, message)
    assert handoff_of(reply) is None, texts(reply)
    assert texts(reply)


def test_the_parse_data_carries_the_learned_scores(assistant):
    parsed = assistant.parse(CALM_HIGH_STAKES[0][0])
    assert parsed["judgement"]["topics"]["fraud"] >= 0.5
    assert set(parsed["emotion"]["strength"]) == {"none", "mild", "strong"}
    calm = assistant.parse("what payment methods do you accept?")
    assert calm["judgement"]["person"] < 0.5 and calm["emotion"]["level"] == "none"


def test_through_the_hub_the_agent_sees_why_the_bot_handed_over(hub):
    async def scenario():
        customer, agent = CustomerClient(hub.hub_url), AgentClient(hub.hub_url)
        try:
            await customer.connect()
            await customer.say(CALM_HIGH_STAKES[1][0])
            await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
            assert (await agent.login()).status_code == 200
            waiting = (await agent.get("/api/queue")).json()["waiting"]
            mine = next(c for c in waiting if c["id"] == customer.conversation_id)
            assert (mine["reason"], mine["priority"]) == ("complex", "high")
            assert "topic:account_takeover" in mine["packet"]["signals"]
            assert mine["packet"]["scores"]["topic:account_takeover"] >= 0.5

            calm = CustomerClient(hub.hub_url)
            try:
                await calm.connect()
                await calm.say(ALARMING_ROUTINE[0])
                answer = await calm.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot")
                assert answer["message"]["text"]
                await asyncio.sleep(1.0)
                assert not [e for e in calm.events if e.get("type") == "state" and e.get("state") == "queued"]
            finally:
                await calm.close()
        finally:
            await customer.close()
            await agent.close()

    asyncio.run(scenario())
