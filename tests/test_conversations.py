"""The conversation store: one owner at a time, decided atomically, and nothing stored twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
from sqlalchemy import select

from bot.store import schema as t
from bot.store.agents import AgentStore
from bot.store.conversations import ConversationNotFound, ConversationStore
from bot.store.database import create_engine
from bot.store.records import NewMessage
from tests.postgres import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The store on a fresh SQLite file, and on a fresh PostgreSQL database (the scale-out mode)."""
    if request.param == "sqlite":
        conversations = ConversationStore(create_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
        conversations.create_schema()
        yield conversations
        return
    with fresh_postgres_database() as url:
        conversations = ConversationStore(create_engine(url))
        conversations.create_schema()
        yield conversations
        conversations.engine.dispose()


def run(coroutine):
    return asyncio.run(coroutine)


def new_conversation(store, name="browser-1"):
    customer = run(store.customer("web", name))
    return run(store.current_conversation(customer))


def queue(store, conversation, priority="normal"):
    return run(
        store.queue(conversation.id, reason="requested", priority=priority, summary="s", packet={"a": 1}, source="test")
    )


def agent(store, username="sam"):
    return run(AgentStore(store.engine).add(username, username.title(), "long enough password", "agent"))


def test_a_customer_keeps_one_conversation_until_it_ends(store):
    first = new_conversation(store)
    assert new_conversation(store).id == first.id
    assert first.state == "bot"
    assert new_conversation(store, "browser-2").id != first.id


def test_the_same_client_message_id_is_stored_once(store):
    conversation = new_conversation(store)
    message = NewMessage("customer", "hi", client_message_id="c-1")
    stored, created = run(store.add_customer_message(conversation.id, message))
    again, created_again = run(store.add_customer_message(conversation.id, message))
    assert (created, created_again) == (True, False)
    assert stored.id == again.id
    assert run(store.count_messages(conversation.id)) == 1


def test_bot_messages_are_dropped_once_people_own_the_conversation(store):
    conversation = new_conversation(store)
    queue(store, conversation)
    assert run(store.add_messages(conversation.id, [NewMessage("bot", "late answer")], while_state="bot")) == []
    assert run(store.count_messages(conversation.id)) == 0


def test_of_many_agents_claiming_at_once_exactly_one_wins(store):
    conversation = new_conversation(store)
    queue(store, conversation)
    agents = [agent(store, f"agent{i}") for i in range(8)]
    results: list[bool] = []
    barrier = threading.Barrier(len(agents))

    def claim(agent_id: int) -> None:
        barrier.wait()
        results.append(asyncio.run(store.claim(conversation.id, agent_id)))

    threads = [threading.Thread(target=claim, args=(a.id,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_only_the_owner_writes_resolves_and_the_first_reply_is_timed(store):
    conversation = new_conversation(store)
    queue(store, conversation)
    sam, kim = agent(store, "sam"), agent(store, "kim")
    assert run(store.claim(conversation.id, sam.id))
    assert run(store.record_agent_reply(conversation.id, kim.id, NewMessage("agent", "hi", agent_id=kim.id))) is None
    assert run(store.record_agent_reply(conversation.id, sam.id, NewMessage("agent", "hi", agent_id=sam.id)))
    assert not run(store.resolve(conversation.id, kim.id))
    assert run(store.resolve(conversation.id, sam.id))
    handoff = run(store.reads.handoff(run(store.get(conversation.id)).handoff_id))
    assert handoff.agent_id == sam.id and handoff.first_reply_at and handoff.resolved_at


def test_the_queue_is_ordered_by_priority_then_waiting_time(store):
    normal, high, urgent = (new_conversation(store, name) for name in ("a", "b", "c"))
    queue(store, normal)
    queue(store, high, "high")
    queue(store, urgent, "urgent")
    assert [c.id for c in run(store.reads.waiting())] == [urgent.id, high.id, normal.id]


def test_a_conversation_already_queued_is_not_queued_twice(store):
    conversation = new_conversation(store)
    assert queue(store, conversation) is not None
    assert queue(store, conversation) is None


def resolved_by(store, conversation, username="sam"):
    queue(store, conversation)
    sam = agent(store, username)
    run(store.claim(conversation.id, sam.id))
    run(store.resolve(conversation.id, sam.id))
    return sam, run(store.get(conversation.id))


def ask(store, conversation, question="csat", after=None):
    return run(store.feedback.ask(conversation.id, "How did we do?", question, [], after))


def test_a_rating_is_credited_to_the_agent_once_and_to_the_bot_otherwise(store):
    bot_only = new_conversation(store, "bot-only")
    ask(store, bot_only)
    assert run(store.feedback.answer(bot_only, "csat", 4, None)).to_json() == {
        "question": "csat",
        "score": 4,
        "agent_id": None,
        "credited_to": "bot",
    }
    sam, conversation = resolved_by(store, new_conversation(store))
    request = ask(store, conversation)
    assert run(store.feedback.answer(conversation, "csat", 5, "great", request.id)).agent_id == sam.id
    assert run(store.feedback.answer(conversation, "csat", 1, "changed my mind", request.id)) is None
    assert run(store.feedback.answer(conversation, "csat", 1, "changed my mind")) is None


def test_only_questions_that_were_asked_can_be_answered_and_each_once(store):
    conversation = new_conversation(store)
    assert run(store.feedback.answer(conversation, "csat", 5, None)) is None
    ask(store, conversation)
    assert run(store.feedback.answer(conversation, "nps", 10, None)) is None
    assert run(store.feedback.answer(conversation, "csat", 5, None)) is not None
    assert run(store.feedback.answer(conversation, "csat", 5, None)) is None
    stranger = new_conversation(store, "someone-else")
    request = ask(store, stranger)
    assert run(store.feedback.answer(conversation, "csat", 1, None, request.id)) is None
    with store.engine.connect() as conn:
        assert conn.execute(select(t.ratings.c.score)).scalars().all() == [5]


def test_an_nps_answer_credits_the_agent_the_question_was_asked_for_even_after_the_bot_took_over(store):
    sam, conversation = resolved_by(store, new_conversation(store))
    first = run(store.feedback.answer(conversation, "csat", 4, None, ask(store, conversation).id))
    follow_up = ask(store, conversation, "nps", after=first)
    assert ask(store, conversation, "nps", after=first) is None
    run(store.back_to_bot(conversation.id))
    nps = run(store.feedback.answer(run(store.get(conversation.id)), "nps", 9, "would tell my sister", follow_up.id))
    assert nps.to_json() == {"question": "nps", "score": 9, "agent_id": sam.id, "credited_to": "agent"}
    with store.engine.connect() as conn:
        assert conn.execute(select(t.nps_scores.c.score, t.nps_scores.c.comment)).all() == [(9, "would tell my sister")]
        assert conn.execute(select(t.ratings.c.score)).scalars().all() == [4]


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_customer_back_after_a_quiet_day_starts_a_new_conversation(store):
    clock = Clock()
    store = ConversationStore(store.engine, clock, idle_after=dt.timedelta(hours=24))
    first = new_conversation(store)
    run(store.add_customer_message(first.id, NewMessage("customer", "where is my order?")))
    clock.now += dt.timedelta(hours=23)
    assert new_conversation(store).id == first.id
    clock.now += dt.timedelta(hours=24, seconds=1)
    second = new_conversation(store)
    assert second.id != first.id and second.state == "bot" and second.created_at == clock.now
    assert [m.text for m in run(store.messages(first.id))] == ["where is my order?"]


def test_a_conversation_a_person_has_does_not_end_however_long_it_waits(store):
    clock = Clock()
    store = ConversationStore(store.engine, clock, idle_after=dt.timedelta(hours=1))
    conversation = new_conversation(store)
    run(store.add_customer_message(conversation.id, NewMessage("customer", "a person please")))
    queue(store, conversation)
    clock.now += dt.timedelta(days=3)
    assert new_conversation(store).id == conversation.id


def test_an_idle_conversation_nobody_wrote_in_is_reused_and_starts_afresh(store):
    clock = Clock()
    store = ConversationStore(store.engine, clock, idle_after=dt.timedelta(hours=1))
    opened = new_conversation(store)
    clock.now += dt.timedelta(days=2)
    again = new_conversation(store)
    assert again.id == opened.id and again.created_at == clock.now


def test_unknown_conversations_are_an_error(store):
    with pytest.raises(ConversationNotFound):
        run(store.get("no-such-id"))
