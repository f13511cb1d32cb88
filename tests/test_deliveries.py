"""The delivery cursor: how far each push channel's chat has been sent its conversation, kept in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.store.agents import AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from bot.store.deliveries import Cursor, DeliveryLog
from bot.store.records import Conversation, NewMessage


@pytest.fixture
def store(tmp_path) -> Iterator[ConversationStore]:
    conversations = ConversationStore(create_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    conversations.create_schema()
    yield conversations
    conversations.engine.dispose()


@pytest.fixture
def log(store: ConversationStore) -> DeliveryLog:
    return DeliveryLog(store.engine, "telegram")


def run(coroutine):
    return asyncio.run(coroutine)


def conversation(store: ConversationStore, external_id: str, channel: str = "telegram") -> Conversation:
    customer = run(store.customer(channel, external_id))
    return run(store.current_conversation(customer))


def say(store: ConversationStore, chat: Conversation, sender: str, text: str) -> int:
    if sender == "customer":
        message, _ = run(store.add_customer_message(chat.id, NewMessage(sender, text)))
        return message.id
    [message] = run(store.add_messages(chat.id, [NewMessage(sender, text)]))
    return message.id


def test_an_untracked_conversation_has_been_delivered_nothing(store, log):
    chat = conversation(store, "1")

    assert run(log.delivered_up_to(chat.id)) == 0


def test_tracking_a_new_conversation_starts_at_zero(store, log):
    chat = conversation(store, "1")

    run(log.track(chat.id, "1"))

    assert run(log.delivered_up_to(chat.id)) == 0


def test_tracking_starts_at_the_latest_message_so_nothing_stored_before_is_resent(store, log):
    chat = conversation(store, "1")
    say(store, chat, "customer", "Hi")
    latest = say(store, chat, "bot", "Hello! How can I help?")

    run(log.track(chat.id, "1"))

    assert run(log.delivered_up_to(chat.id)) == latest


def test_tracking_again_changes_nothing(store, log):
    chat = conversation(store, "1")
    first = say(store, chat, "bot", "Hello")
    run(log.track(chat.id, "1"))
    say(store, chat, "bot", "Still there?")

    run(log.track(chat.id, "1"))
    run(log.track(chat.id, "999"))

    assert run(log.delivered_up_to(chat.id)) == first
    assert run(log.owed()) == [(chat.id, "1")]


def test_the_cursor_moves_forward_and_never_back(store, log):
    chat = conversation(store, "1")
    run(log.track(chat.id, "1"))

    run(log.advance(chat.id, 5))
    assert run(log.delivered_up_to(chat.id)) == 5
    run(log.advance(chat.id, 3))
    assert run(log.delivered_up_to(chat.id)) == 5
    run(log.advance(chat.id, 5))
    assert run(log.delivered_up_to(chat.id)) == 5
    run(log.advance(chat.id, 8))
    assert run(log.delivered_up_to(chat.id)) == 8


def test_advancing_an_untracked_conversation_does_not_start_tracking_it(store, log):
    chat = conversation(store, "1")

    run(log.advance(chat.id, 4))

    assert run(log.delivered_up_to(chat.id)) == 0
    assert run(log.owed()) == []


def test_owed_lists_the_chats_still_owed_a_message_or_with_people_right_now(store, log):
    agents = AgentStore(store.engine)
    sam = run(agents.add("sam", "Sam", "long enough password", "agent"))

    behind = conversation(store, "101")
    run(log.track(behind.id, "101"))
    say(store, behind, "bot", "Your order shipped.")

    up_to_date = conversation(store, "102")
    run(log.track(up_to_date.id, "102"))
    run(log.advance(up_to_date.id, say(store, up_to_date, "bot", "Done!")))

    only_the_customer_spoke = conversation(store, "103")
    run(log.track(only_the_customer_spoke.id, "103"))
    say(store, only_the_customer_spoke, "customer", "thanks")

    queued = conversation(store, "104")
    run(log.track(queued.id, "104"))
    run(store.queue(queued.id, reason="requested", priority="normal", summary="s", packet={}, source="test"))

    with_agent = conversation(store, "105")
    run(log.track(with_agent.id, "105"))
    run(store.queue(with_agent.id, reason="requested", priority="normal", summary="s", packet={}, source="test"))
    assert run(store.claim(with_agent.id, sam.id))

    resolved = conversation(store, "106")
    run(log.track(resolved.id, "106"))
    run(store.queue(resolved.id, reason="requested", priority="normal", summary="s", packet={}, source="test"))
    assert run(store.claim(resolved.id, sam.id))
    assert run(store.resolve(resolved.id, sam.id))

    untracked = conversation(store, "107")
    say(store, untracked, "bot", "Hello")

    web_log = DeliveryLog(store.engine, "web")
    elsewhere = conversation(store, "browser-1", channel="web")
    run(web_log.track(elsewhere.id, "browser-1"))
    say(store, elsewhere, "bot", "Hello from the web")

    assert sorted(run(log.owed())) == sorted([(behind.id, "101"), (queued.id, "104"), (with_agent.id, "105")])
    assert run(web_log.owed()) == [(elsewhere.id, "browser-1")]


def test_a_chat_is_no_longer_owed_once_the_cursor_reaches_its_last_message(store, log):
    chat = conversation(store, "1")
    run(log.track(chat.id, "1"))
    first = say(store, chat, "bot", "One")
    last = say(store, chat, "agent", "Two")

    run(log.advance(chat.id, first))
    assert run(log.owed()) == [(chat.id, "1")]
    run(log.advance(chat.id, last))
    assert run(log.owed()) == []
    say(store, chat, "customer", "ok")
    assert run(log.owed()) == []


def test_the_queue_notice_is_kept_read_back_and_cleared(store, log):
    chat = conversation(store, "1")
    run(log.track(chat.id, "1"))
    assert run(log.queue_notice(chat.id)) is None

    run(log.set_queue_notice(chat.id, {"position": 3, "wait_minutes": 7}))
    assert run(log.queue_notice(chat.id)) == {"position": 3, "wait_minutes": 7}

    run(log.set_queue_notice(chat.id, {"position": 1, "wait_minutes": None}))
    assert run(log.queue_notice(chat.id)) == {"position": 1, "wait_minutes": None}

    run(log.set_queue_notice(chat.id, None))
    assert run(log.queue_notice(chat.id)) is None


def test_a_queue_notice_for_an_untracked_conversation_is_not_kept(store, log):
    chat = conversation(store, "1")

    run(log.set_queue_notice(chat.id, {"position": 2, "wait_minutes": 4}))

    assert run(log.queue_notice(chat.id)) is None
    assert run(log.delivered_up_to(chat.id)) == 0


def test_the_cursor_names_the_chat_and_how_far_it_was_sent_and_only_for_this_channel(store, log):
    chat = conversation(store, "1")
    assert run(log.cursor(chat.id)) is None

    run(log.track(chat.id, "1"))
    run(log.advance(chat.id, say(store, chat, "bot", "Hello")))

    assert run(log.cursor(chat.id)) == Cursor("1", run(log.delivered_up_to(chat.id)))
    assert run(DeliveryLog(store.engine, "web").cursor(chat.id)) is None


def test_behind_lists_only_the_chats_owed_a_message_not_those_merely_with_people(store, log):
    behind = conversation(store, "201")
    run(log.track(behind.id, "201"))
    say(store, behind, "agent", "I'm on it.")

    queued = conversation(store, "202")
    run(log.track(queued.id, "202"))
    run(store.queue(queued.id, reason="requested", priority="normal", summary="s", packet={}, source="test"))

    assert run(log.behind()) == [(behind.id, "201")]
    assert sorted(run(log.owed())) == sorted([(behind.id, "201"), (queued.id, "202")])


def test_a_queue_notice_is_replaced_only_by_whoever_saw_the_one_stored(store, log):
    chat = conversation(store, "1")
    run(log.track(chat.id, "1"))
    first = {"position": 3, "wait_minutes": 7}
    second = {"position": 1, "wait_minutes": None}

    assert run(log.replace_queue_notice(chat.id, None, first))
    assert not run(log.replace_queue_notice(chat.id, None, first))  # the other hub, a moment late
    assert run(log.replace_queue_notice(chat.id, first, second))
    assert not run(log.replace_queue_notice(chat.id, first, second))
    assert run(log.queue_notice(chat.id)) == second
